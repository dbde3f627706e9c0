"""What the demo workspace says: three personas, their accounts, posts, comments and rules.

Written for the demo (no placeholder text), so the pages read like a real team's. Every account
is marked as a demo connection (``platforms.base.DEMO_MARK``): none of it ever reaches a platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DemoAccount:
    platform: str
    handle: str
    display_name: str


@dataclass(frozen=True)
class DemoComment:
    """A comment, reply or mention on one of the persona's posts (or about the persona)."""

    platform: str
    kind: str
    author_name: str
    author_handle: str
    author_bio: str
    text: str
    # Reply drafted for it: a template id of the persona, or the text itself.
    reply: str | None = None


@dataclass(frozen=True)
class DemoPersona:
    name: str
    colour: str
    bio: str
    voice: str
    audience: str
    topics: list[str]
    hashtags: list[str]
    timezone: str
    slots: list[str]
    # Local hour and minute of the main slot, and of the off-slot posts (for best times).
    slot_hours: list[tuple[int, int]]
    accounts: list[DemoAccount]
    published: list[str]
    scheduled: list[str]
    in_review: list[str]
    drafts: list[str]
    comments: list[DemoComment]
    rule_brief: str
    example_posts: list[str] = field(default_factory=list)


MAYA = DemoPersona(
    name="Maya Okafor",
    colour="#7c3aed",
    bio="Design lead at a healthcare start-up in Berlin. Writes about design systems, research "
    "and accessible products.",
    voice="Warm and practical. Short paragraphs, one concrete example per post, no buzzwords. "
    "Speaks from her own projects and admits what went wrong.",
    audience="Product designers and engineering managers in small product teams.",
    topics=["design systems", "accessibility", "user research", "design critique"],
    hashtags=["#design"],
    timezone="Europe/Berlin",
    slots=["FREQ=WEEKLY;BYDAY=TU,TH;BYHOUR=8;BYMINUTE=30"],
    slot_hours=[(8, 30), (12, 15), (17, 45)],
    accounts=[
        DemoAccount("linkedin", "maya-okafor", "Maya Okafor"),
        DemoAccount("bluesky", "maya.demo.bsky.social", "Maya Okafor"),
        DemoAccount("x", "mayadesigns", "Maya Okafor"),
    ],
    published=[
        "Our design system had 48 button variants. We audited who used what: 41 of them "
        "appeared on one screen each. We kept 7. Nobody has asked for the others back.",
        "A usability test with five nurses taught us more in one afternoon than a month of "
        "analytics. They never clicked 'Save' because the form saved itself in the old tool. "
        "We had built a trap out of a good habit.",
        "Accessibility is not a phase at the end. This sprint we put one screen-reader check "
        "into every pull request template. It takes three minutes and it has already caught "
        "two unlabeled icon buttons.",
        "Design critique works better when the designer asks one question first: 'What should "
        "I be worried about?' It turns a review into help instead of a verdict.",
        "We replaced our colour tokens 'blue-500' and friends with names for what they do: "
        "'action', 'danger', 'quiet'. The dark theme took two days instead of two weeks.",
        "Research debt is real. We had 30 interview recordings nobody had watched twice. Now "
        "each one gets a one-paragraph summary within 24 hours, written by whoever ran it.",
        "Hot take: your empty states are your onboarding. Ours now show one example record and "
        "one button. Activation on the care-plan screen went from 38% to 61%.",
        "I used to present three design options. Now I present one, plus the two I rejected and "
        "why. Decisions got faster and the team trusts the rejected ones stay rejected.",
    ],
    scheduled=[
        "Focus order is a design decision, not an engineering detail. Draw it on the mock-up "
        "with numbers before anyone writes code: it takes a minute and saves a round of bugs.",
        "What we learned from moving our component docs next to the code: fewer pages, more "
        "truth. The docs that survived are the ones a failing test would notice.",
        "Five questions I ask before adding a new component to a design system:\n\n1. Has it "
        "appeared in three places already?\n2. Can an existing one do it with a prop?\n3. Who "
        "will maintain it?\n4. What does it look like at 200% zoom?\n5. How does it fail?\n\n"
        "If the answer to the first is no, it stays a pattern in the product, not a component. "
        "Components are promises, and every promise costs something to keep.",
    ],
    in_review=[
        "We stopped writing personas and started writing 'jobs' instead. A night-shift nurse "
        "does not need a fictional name and a coffee preference; she needs the medication list "
        "to load before the patient wakes up. Since the switch, our research read-outs are half "
        "as long and twice as useful, and the engineers read them. Here is the one-page template "
        "we use, with the three questions that replaced the persona poster on our wall.",
        "Tiny accessibility win of the week: our date picker now accepts typed dates. Keyboard "
        "users, screen-reader users and anyone in a hurry all benefit.",
    ],
    drafts=[
        "Notes from a design review that went badly, and what I would do differently next time.",
    ],
    comments=[
        DemoComment(
            "linkedin",
            "comment",
            "Jonas Weber",
            "jonas-weber",
            "Head of Product at a logistics company",
            "We have the same 40-buttons problem. Could we book a call? We are looking for "
            "someone to run a design system audit for our team next quarter.",
            reply="Happy to, Jonas. I will send you a message with a few times that work.",
        ),
        DemoComment(
            "bluesky",
            "reply",
            "Ana Lima",
            "analima.bsky.social",
            "UX researcher",
            "The one-paragraph summary rule is brilliant. Do you use a template for it?",
            reply="Yes: what we asked, what surprised us, what we will do. Three lines at most.",
        ),
        DemoComment(
            "x",
            "mention",
            "Sam Carter",
            "samcodes",
            "Frontend engineer",
            "@mayadesigns the focus-order tip saved our sprint, thank you",
        ),
        DemoComment(
            "linkedin",
            "comment",
            "Claire Dubois",
            "claire-dubois",
            "Engineering manager",
            "How did you convince engineering to add the screen-reader check to every PR?",
        ),
    ],
    rule_brief="One practical lesson from a recent project, with a concrete number or example.",
)

TOMAS = DemoPersona(
    name="Tomás Rivera",
    colour="#0f766e",
    bio="Bootstrapped founder of a scheduling tool for clinics. Shares revenue numbers, pricing "
    "experiments and what did not work.",
    voice="Direct and numbers-first. Opens with the result, then the why. Dry humour, never hype.",
    audience="Indie founders and small SaaS teams.",
    topics=["bootstrapping", "pricing", "churn", "customer support"],
    hashtags=[],
    timezone="America/New_York",
    slots=["FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=9;BYMINUTE=0"],
    slot_hours=[(9, 0), (13, 0), (19, 30)],
    accounts=[
        DemoAccount("x", "tomasbuilds", "Tomás Rivera"),
        DemoAccount("linkedin", "tomas-rivera", "Tomás Rivera"),
        DemoAccount("webhook", "newsletter", "Tomás's newsletter"),
        DemoAccount("bluesky", "tomas.demo.bsky.social", "Tomás Rivera"),
    ],
    published=[
        "Raised prices 30% for new customers. Signups dropped 6%. Revenue per signup up 22%. "
        "The customers who left were asking for discounts anyway.",
        "Month 19: $14.2k MRR, churn 2.9%. The biggest churn reason is still 'clinic closed'. "
        "Not much I can do about that one.",
        "Support tip: answer the question, then answer the next question they were going to "
        "ask. Tickets per customer went down 18% in two months.",
        "Annual plans are a cash-flow tool, not a discount tool. We offer two months free and "
        "40% of new clinics take it. That paid for our first hire.",
        "Killed a feature today that 3% of customers used. Emailed all of them first. Two "
        "replied, both said 'fine'. The code it removed was 11% of the codebase.",
        "Cold email that worked: one sentence about their clinic, one about the no-show rate "
        "we cut for a similar clinic, one question. 14% reply rate across 200 emails.",
        "Onboarding call vs. onboarding video: calls convert 2x better but cost me 6 hours a "
        "week. Now: video first, call for clinics with more than 5 staff.",
        "The most useful dashboard we have is a list of customers who have not logged in for "
        "10 days. Every Monday I email them. It is the best retention tool we own.",
    ],
    scheduled=[
        "Pricing page test: showing the price per clinic per day ($1.60) instead of per month "
        "($49). Two weeks in, trial starts are up 9%. Too early to call, but interesting.",
        "Things I automated this year that I should have automated on day one: invoices, "
        "dunning emails, the weekly metrics post. Things I should never automate: saying sorry.",
        "A year of bootstrapping numbers, as a thread.\n\nRevenue: $3.1k MRR in January, $14.2k "
        "now. No funding, one hire.\n\nWhat moved it: raising prices twice, annual plans, and "
        "answering every support email within four hours.\n\nWhat did not: paid ads ($2,400 "
        "spent, 3 customers), a Product Hunt launch (a great day, a flat month), and a partner "
        "programme nobody joined.\n\nWhat I would do again: talk to ten customers a month, "
        "every month, even when it feels like there is no time.",
    ],
    in_review=[
        "We lost our biggest customer this week. 41 clinics, 9% of revenue. They were acquired "
        "and the new owner has a contract with a competitor. Nothing we did wrong, and it still "
        "stings. What I am doing about it: one call with every clinic over 20 staff this month.",
        "Hiring our second person: a support lead who likes spreadsheets. Part-time to start, "
        "fully remote, Americas time zones.",
    ],
    drafts=[
        "Draft: why we still do not have a free plan, and the experiment that might change it.",
    ],
    comments=[
        DemoComment(
            "x",
            "reply",
            "Dana Brooks",
            "danabrooks",
            "Runs a chain of 12 physiotherapy clinics",
            "Do you offer pricing for multi-location practices? We have 12 clinics and would "
            "love a demo for our managers.",
            reply="We do, Dana. Sending you a DM with a link to book a demo.",
        ),
        DemoComment(
            "linkedin",
            "comment",
            "Priyanka Shah",
            "priyanka-shah",
            "Founder, two-person SaaS",
            "The 'not logged in for 10 days' list is such a good idea. Stealing it.",
            reply="Please do! Ours is a saved query that emails me every Monday at 8.",
        ),
        DemoComment(
            "x",
            "reply",
            "Leo Park",
            "leopark",
            "Indie hacker",
            "How did you decide on 30%? Did you test smaller steps first?",
        ),
        DemoComment(
            "x",
            "mention",
            "Mira Novak",
            "miranovak",
            "Operations manager at a dental group",
            "@tomasbuilds we are looking at scheduling tools for 8 dental offices. What does "
            "pricing look like for us? Happy to jump on a call this week.",
        ),
    ],
    rule_brief="One number from the business this week and what it taught us.",
)

PRIYA = DemoPersona(
    name="Priya Nair",
    colour="#c2410c",
    bio="Climate data scientist in Bengaluru. Open data, Python notebooks and charts that "
    "explain the weather.",
    voice="Curious and playful. Asks a question, shows the chart, explains it plainly. Links "
    "to the data.",
    audience="Data people, journalists and students interested in climate.",
    topics=["open data", "climate", "python", "data visualisation"],
    hashtags=["#opendata"],
    timezone="Asia/Kolkata",
    slots=["FREQ=WEEKLY;BYDAY=TU,SA;BYHOUR=18;BYMINUTE=0"],
    slot_hours=[(18, 0), (9, 30), (21, 0)],
    accounts=[
        DemoAccount("bluesky", "priya.demo.bsky.social", "Priya Nair"),
        DemoAccount("x", "priyaplots", "Priya Nair"),
    ],
    published=[
        "Bengaluru had 11 nights above 24 °C this May. In the 1990s the average was two. The "
        "chart is one line of pandas and a very uncomfortable trend.",
        "Question for data folks: how do you explain a 30-year climate normal to someone who "
        "only remembers last summer? My best attempt so far is a stripe chart.",
        "New notebook: monsoon onset dates for Kerala since 1971, straight from the IMD "
        "archive. The onset is not later on average; the rain after it is lumpier.",
        "Small plotting tip: label lines at their ends instead of using a legend. Readers stop "
        "bouncing between the chart and the key.",
        "Open data win: the city published ward-level tree cover. Wards with more trees were "
        "1.8 °C cooler at 3 pm during the April heat wave.",
        "I asked students to guess the hottest year in their city. Most guessed the year they "
        "remember being uncomfortable. Memory is a terrible thermometer.",
        "Why I store every dataset I download with the date and the URL in the file name: "
        "because 'final_v2.csv' will not tell you which version of reality it came from.",
        "Rainfall is not normally distributed and your averages are lying to you. A thread on "
        "medians, percentiles and why one storm can make a dry month look wet.",
    ],
    scheduled=[
        "Weekend project: a tiny Python script that turns any city's daily temperatures into "
        "warming stripes. Twenty lines, no API key, data from an open archive.",
        "Chart critique: a news graphic put two temperature series on two y-axes. Same data, "
        "one axis, and the story flips. Dual axes are a trap.",
        "Reading list for anyone starting with climate data:\n\n1. The IPCC's summary for "
        "policymakers (yes, really, the figures are excellent).\n2. The Copernicus climate "
        "bulletins, every month.\n3. Any national weather service archive: ours has data back "
        "to 1901.\n\nStart with one city you know and one question you care about. The tools "
        "matter much less than the question.",
    ],
    in_review=[
        "Heat index vs. temperature: the number on your phone is not what your body feels. "
        "Here is the formula, the chart for Chennai last week, and why humidity matters more "
        "than the headline figure when you plan a run.",
        "Poll: which chart should I make next? Monsoon rain by decade, night-time heat by ward, "
        "or the lake levels around the city since 2000.",
    ],
    drafts=[
        "Outline: a workshop on cleaning weather-station data for first-year students.",
    ],
    comments=[
        DemoComment(
            "bluesky",
            "reply",
            "Arjun Menon",
            "arjun.bsky.social",
            "Data journalist",
            "Can we republish the tree-cover chart in our newsletter? Happy to credit you.",
            reply="Of course, Arjun: it is CC BY, a credit and a link to the notebook is all.",
        ),
        DemoComment(
            "x",
            "reply",
            "Kavya Rao",
            "kavyarao",
            "Programme lead at a city NGO",
            "We are hiring a data consultant for a heat-action plan and would love to talk "
            "about a contract. What is your availability next month?",
        ),
        DemoComment(
            "bluesky",
            "mention",
            "Nikhil Das",
            "nikhil.bsky.social",
            "Student",
            "Used @priya.demo.bsky.social's stripe notebook for my class project, it worked "
            "first time!",
        ),
    ],
    rule_brief="One chart or dataset that explains something about the local climate.",
)

PERSONAS = (MAYA, TOMAS, PRIYA)

# The four-platform post waiting for approval whose X text differs from the others'.
SHARED_POST = (
    "We moved our clinics' reminder texts from 24 hours to 2 hours before the appointment. "
    "No-shows fell from 11% to 6% in a month. The surprise: patients replied 'thank you' to the "
    "later message three times as often. Timing is part of the message."
)
SHARED_POST_X = (
    "Reminder texts 2 hours before instead of 24: no-shows fell from 11% to 6% in a month. "
    "Timing is part of the message."
)
