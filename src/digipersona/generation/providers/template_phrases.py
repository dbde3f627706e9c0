"""Scaffolding phrases of the template provider, per language (en, de, fr, es).

Keys name a slot of a post structure; a ``.warm``/``.direct``/``.playful``/``.formal`` suffix holds
tone-specific variants that win over the plain key. Placeholders: ``{topic}``/``{Topic}``,
``{audience}``, ``{n}``, ``{title}``, ``{author}``, ``{claim}``. Every key keeps at least one
variant without ``{topic}``/``{audience}`` so a sparse persona still gets a sentence. French
avoids "de {topic}" (articles would collide: "de le"). The persona's brief is never translated;
only this scaffolding follows the persona's language.
"""

from __future__ import annotations

from typing import Final

Bank = dict[str, tuple[str, ...]]

EN: Final[Bank] = {
    "hook.open": (
        "Here's what I've learned about {topic}.",
        "A quick thought on {topic}.",
        "Something about {topic} worth saying out loud.",
        "If you care about {topic}, read this.",
        "Here's a thing I keep noticing.",
        "Let's talk about {topic}.",
    ),
    "hook.open.playful": (
        "Okay, {topic} time.",
        "Plot twist: {topic} just got interesting.",
        "Grab a coffee, this one's about {topic}.",
        "Fun fact incoming.",
    ),
    "hook.open.formal": (
        "A brief note on {topic}.",
        "Some observations on {topic}.",
        "A short update worth sharing.",
    ),
    "hook.open.direct": (
        "{Topic}. Here's the point.",
        "Straight to it.",
        "One thing about {topic}.",
    ),
    "story.open": (
        "A quick story about {topic}.",
        "Last week reminded me why {topic} matters.",
        "Here's what happened recently.",
    ),
    "story.open.formal": (
        "A recent experience illustrates this well.",
        "A recent example on {topic}.",
    ),
    "story.turn": (
        "What stuck with me:",
        "The part I keep thinking about:",
        "Here's the takeaway:",
    ),
    "lesson.open": (
        "A lesson about {topic} I keep relearning:",
        "One thing {topic} has taught me:",
        "The lesson I keep coming back to:",
    ),
    "lesson.why": ("Why it matters for {audience}:", "Why this matters:", "The reason it matters:"),
    "list.open": (
        "{n} things about {topic} worth knowing:",
        "{n} points on {topic} for {audience}:",
        "{n} quick notes:",
    ),
    "list.extra": (
        "Start small and measure what changes.",
        "Write down what you learn as you go.",
        "Share what works with the people around you.",
        "Revisit it after a month and adjust.",
    ),
    "question.open": ("A question for {audience}:", "Honest question:", "Curious what you think:"),
    "question.open.formal": ("A question for {audience}:", "A question for my network:"),
    "question.ask": (
        "How do you approach {topic}?",
        "What has worked for you with {topic}?",
        "Where do you stand on this?",
    ),
    "question.context": ("Here's where I am:", "Some context:", "Why I'm asking:"),
    "cta.open": (
        "If {topic} is on your mind, this is for you.",
        "For {audience}:",
        "Worth a look if you work on {topic}.",
        "This one is worth your time.",
    ),
    "cta.close": (
        "Try it and tell me what you think.",
        "Give it a go this week.",
        "Save this for when you need it.",
    ),
    "cta.close.formal": (
        "I invite you to try it and share your experience.",
        "It is worth testing in your own context.",
    ),
    "contrarian.open": (
        "Unpopular opinion about {topic}:",
        "Hot take:",
        "Here's where I disagree with the usual advice on {topic}:",
    ),
    "contrarian.open.formal": (
        "A less common view on {topic}:",
        "A perspective that runs against the usual advice:",
    ),
    "contrarian.turn": (
        "The common advice misses this.",
        "It's not what most people expect.",
        "That's the part nobody talks about.",
    ),
    "how_to.open": (
        "How to approach {topic}, in {n} steps:",
        "A simple way to handle {topic}:",
        "{n} steps that work:",
    ),
    "source.intro": (
        "Worth reading: “{title}”.",
        "Just read “{title}”.",
        "This piece stuck with me: “{title}”.",
    ),
    "link.intro": ("Read it here:", "Link:", "More here:"),
    "fallback.core": (
        "{Topic} deserves more attention than it gets.",
        "There's more to {topic} than most people think.",
    ),
    "fallback.source": ("It's a good read, and it made me think.",),
    "close": ("What's your take?", "How do you see it?", "Curious to hear your thoughts."),
    "close.warm": (
        "I'd love to hear how this looks for you.",
        "Thanks for reading, and tell me your story below.",
        "If this resonates, let's talk.",
    ),
    "close.direct": ("Your move.", "Try it this week.", "Agree or disagree?"),
    "close.playful": ("Who's with me?", "Tell me I'm not the only one!", "Your turn!"),
    "close.formal": (
        "I welcome your perspective.",
        "I would value your thoughts on this.",
        "Your comments are welcome.",
    ),
    "reply.thanks": ("Thanks, {author}!", "Thank you, {author}.", "Thanks for this!"),
    "reply.thanks.formal": ("Thank you, {author}.", "Thank you for your comment."),
    "reply.question": ("Good question.", "Great question, and a fair one."),
    "reply.praise": ("Glad it was useful.", "Really appreciate that."),
    "reply.disagree": ("Fair point, and I see it a bit differently.", "Appreciate the pushback."),
    "reply.general": ("Appreciate you sharing this.", "Good to hear your take."),
    "reply.close": ("Happy to dig in further.", "Let's keep the conversation going."),
    "reply.close.question": (
        "Happy to go into detail: send me a message.",
        "Happy to share more in a message.",
    ),
    "reply.close.formal": ("I am happy to discuss this further.",),
    "hook.suggest": ("{claim}", "{claim} Here's why.", "The short version: {claim}"),
    "hook.suggest.playful": ("Stop scrolling: {claim}", "{claim} Yes, really."),
}

DE: Final[Bank] = {
    "hook.open": (
        "Ein kurzer Gedanke zu {topic}.",
        "Etwas zu {topic}, das gesagt werden muss.",
        "Was ich über {topic} gelernt habe.",
        "Reden wir über {topic}.",
        "Mir fällt da etwas auf.",
    ),
    "hook.open.playful": ("Achtung, jetzt wird es spannend: {topic}.", "Kleiner Fun Fact vorab."),
    "hook.open.formal": ("Eine kurze Anmerkung zu {topic}.", "Einige Beobachtungen zu {topic}."),
    "story.open": (
        "Eine kurze Geschichte zu {topic}.",
        "Letzte Woche wurde mir wieder klar, warum {topic} wichtig ist.",
        "Neulich ist etwas passiert.",
    ),
    "story.turn": (
        "Was hängen geblieben ist:",
        "Der Punkt, der mich nicht loslässt:",
        "Die Erkenntnis:",
    ),
    "lesson.open": (
        "Eine Lektion zu {topic}, die ich immer wieder lerne:",
        "Was mir {topic} beigebracht hat:",
        "Die Lektion, auf die ich immer wieder zurückkomme:",
    ),
    "lesson.why": ("Warum das für {audience} zählt:", "Warum das wichtig ist:", "Der Grund dafür:"),
    "list.open": (
        "{n} Dinge über {topic}, die sich lohnen:",
        "{n} Punkte zu {topic} für {audience}:",
        "{n} kurze Notizen:",
    ),
    "list.extra": (
        "Klein anfangen und messen, was sich ändert.",
        "Aufschreiben, was man dabei lernt.",
        "Teilen, was funktioniert.",
        "Nach einem Monat nachjustieren.",
    ),
    "question.open": (
        "Eine Frage an {audience}:",
        "Ehrliche Frage:",
        "Mich interessiert eure Meinung:",
    ),
    "question.open.formal": ("Eine Frage an {audience}:", "Eine Frage in die Runde:"),
    "question.ask": (
        "Wie geht ihr mit {topic} um?",
        "Was hat bei euch mit {topic} funktioniert?",
        "Wo steht ihr dabei?",
    ),
    "question.ask.formal": (
        "Wie gehen Sie mit {topic} um?",
        "Welche Erfahrungen haben Sie mit {topic} gemacht?",
        "Wie sehen Sie das?",
    ),
    "question.context": ("Zum Hintergrund:", "Worum es geht:", "Warum ich frage:"),
    "cta.open": (
        "Wer sich mit {topic} beschäftigt, sollte das lesen.",
        "Für {audience}:",
        "Das lohnt sich.",
    ),
    "cta.close": (
        "Probiert es aus und sagt mir, wie es war.",
        "Einfach diese Woche testen.",
        "Speichert euch das für später.",
    ),
    "cta.close.formal": (
        "Probieren Sie es aus und teilen Sie Ihre Erfahrungen.",
        "Es lohnt sich, das im eigenen Umfeld zu testen.",
    ),
    "contrarian.open": (
        "Unpopuläre Meinung zu {topic}:",
        "Steile These:",
        "Hier widerspreche ich dem üblichen Rat zu {topic}:",
    ),
    "contrarian.turn": (
        "Der übliche Rat übersieht genau das.",
        "Das erwarten die wenigsten.",
        "Darüber spricht kaum jemand.",
    ),
    "how_to.open": (
        "So geht man {topic} an, in {n} Schritten:",
        "Ein einfacher Weg zu {topic}:",
        "{n} Schritte, die funktionieren:",
    ),
    "source.intro": (
        "Lesenswert: „{title}“.",
        "Gerade gelesen: „{title}“.",
        "Dieser Artikel ist hängen geblieben: „{title}“.",
    ),
    "link.intro": ("Hier lesen:", "Link:", "Mehr dazu:"),
    "fallback.core": (
        "{Topic} verdient mehr Aufmerksamkeit, als es bekommt.",
        "Hinter {topic} steckt mehr, als viele denken.",
    ),
    "fallback.source": ("Eine gute Lektüre, die mich zum Nachdenken gebracht hat.",),
    "close": ("Wie seht ihr das?", "Was ist eure Meinung?", "Bin gespannt auf eure Gedanken."),
    "close.warm": (
        "Erzählt mir gern, wie das bei euch aussieht.",
        "Danke fürs Lesen, und teilt gern eure Erfahrungen.",
        "Wenn euch das bekannt vorkommt, lasst uns reden.",
    ),
    "close.direct": (
        "Jetzt seid ihr dran.",
        "Probiert es diese Woche aus.",
        "Zustimmung oder Widerspruch?",
    ),
    "close.playful": ("Wer ist dabei?", "Geht es nur mir so?", "Los geht's!"),
    "close.formal": (
        "Ich freue mich auf Ihre Sicht.",
        "Ihre Meinung dazu interessiert mich.",
        "Ihre Kommentare sind willkommen.",
    ),
    "reply.thanks": ("Danke, {author}!", "Vielen Dank, {author}.", "Danke dafür!"),
    "reply.thanks.formal": ("Vielen Dank, {author}.", "Vielen Dank für Ihren Kommentar."),
    "reply.question": ("Gute Frage.", "Berechtigte Frage."),
    "reply.praise": ("Freut mich, dass es hilfreich war.", "Das freut mich sehr."),
    "reply.disagree": ("Guter Punkt, ich sehe es etwas anders.", "Danke für den Widerspruch."),
    "reply.general": ("Danke fürs Teilen.", "Schön, deine Sicht zu hören."),
    "reply.general.formal": ("Danke, dass Sie Ihre Sicht teilen.",),
    "reply.close": ("Lass uns gern weiter darüber sprechen.", "Ich gehe gern tiefer darauf ein."),
    "reply.close.question": ("Schreib mir gern eine Nachricht, dann gehe ich ins Detail.",),
    "reply.close.formal": ("Gern vertiefe ich das im Gespräch.",),
    "hook.suggest": ("{claim}", "{claim} Und zwar so:", "Kurz gesagt: {claim}"),
}

FR: Final[Bank] = {
    "hook.open": (
        "Une réflexion rapide sur {topic}.",
        "Ce que j'ai appris sur {topic}.",
        "Parlons-en : {topic}.",
        "Quelque chose me frappe en ce moment.",
    ),
    "hook.open.formal": ("Une brève note sur {topic}.", "Quelques observations sur {topic}."),
    "hook.open.playful": ("Petite surprise du jour : {topic}.", "Attention, anecdote en approche."),
    "story.open": (
        "Une petite histoire sur {topic}.",
        "La semaine dernière m'a rappelé pourquoi {topic} compte.",
        "Voici ce qui s'est passé récemment.",
    ),
    "story.turn": ("Ce que j'en retiens :", "Le point qui me reste en tête :", "La leçon :"),
    "lesson.open": (
        "Une leçon sur {topic} que je réapprends sans cesse :",
        "Ce que {topic} m'a appris :",
        "La leçon à laquelle je reviens toujours :",
    ),
    "lesson.why": (
        "Pourquoi c'est important pour {audience} :",
        "Pourquoi c'est important :",
        "La raison :",
    ),
    "list.open": (
        "{n} choses à savoir sur {topic} :",
        "{n} points sur {topic} pour {audience} :",
        "{n} notes rapides :",
    ),
    "list.extra": (
        "Commencer petit et mesurer ce qui change.",
        "Noter ce que l'on apprend en chemin.",
        "Partager ce qui fonctionne.",
        "Faire le point après un mois.",
    ),
    "question.open": (
        "Une question pour {audience} :",
        "Question honnête :",
        "J'aimerais votre avis :",
    ),
    "question.ask": (
        "Comment abordez-vous {topic} ?",
        "Qu'est-ce qui a marché pour vous avec {topic} ?",
        "Où vous situez-vous ?",
    ),
    "question.context": (
        "Un peu de contexte :",
        "Pourquoi je pose la question :",
        "Où j'en suis :",
    ),
    "cta.open": (
        "Si {topic} vous occupe, ceci est pour vous.",
        "Pour {audience} :",
        "À lire si vous travaillez sur {topic}.",
        "Ça vaut le détour.",
    ),
    "cta.close": (
        "Essayez et dites-moi ce que vous en pensez.",
        "Testez-le cette semaine.",
        "Gardez ceci de côté pour plus tard.",
    ),
    "contrarian.open": (
        "Opinion impopulaire sur {topic} :",
        "Avis tranché :",
        "Là où je ne suis pas d'accord avec le conseil habituel sur {topic} :",
    ),
    "contrarian.turn": (
        "Le conseil habituel passe à côté de ça.",
        "Peu de gens s'y attendent.",
        "C'est la partie dont personne ne parle.",
    ),
    "how_to.open": (
        "Comment aborder {topic}, en {n} étapes :",
        "Une façon simple de gérer {topic} :",
        "{n} étapes qui fonctionnent :",
    ),
    "source.intro": (
        "À lire : « {title} ».",
        "Je viens de lire « {title} ».",
        "Cet article m'a marqué : « {title} ».",
    ),
    "link.intro": ("À lire ici :", "Lien :", "Plus de détails :"),
    "fallback.core": (
        "{Topic} mérite plus d'attention qu'on ne lui en accorde.",
        "Il y a plus à dire sur {topic} qu'on ne le pense.",
    ),
    "fallback.source": ("Une bonne lecture qui m'a fait réfléchir.",),
    "close": ("Qu'en pensez-vous ?", "Quel est votre avis ?", "Vos retours m'intéressent."),
    "close.warm": (
        "Racontez-moi comment ça se passe pour vous.",
        "Merci de m'avoir lu, partagez votre expérience en commentaire.",
        "Si cela vous parle, échangeons.",
    ),
    "close.direct": ("À vous de jouer.", "Essayez cette semaine.", "D'accord ou pas ?"),
    "close.playful": ("Qui est partant ?", "Alors, on s'y met ?", "À vous !"),
    "close.formal": (
        "Votre point de vue m'intéresse.",
        "Vos commentaires sont les bienvenus.",
        "Je serais reconnaissant de connaître votre avis.",
    ),
    "reply.thanks": ("Merci, {author} !", "Merci beaucoup, {author}.", "Merci pour ce message !"),
    "reply.thanks.formal": ("Merci beaucoup, {author}.", "Merci pour votre commentaire."),
    "reply.question": ("Bonne question.", "Excellente question."),
    "reply.praise": ("Ça me fait plaisir.", "Merci, cela me touche."),
    "reply.disagree": (
        "Point intéressant, je le vois un peu différemment.",
        "Merci pour ce contre-point.",
    ),
    "reply.general": ("Merci pour le partage.", "Intéressant d'avoir votre avis."),
    "reply.close": ("Continuons la discussion.", "Avec plaisir pour en parler plus en détail."),
    "reply.close.question": ("Écrivez-moi en message privé, je détaillerai volontiers.",),
    "hook.suggest": ("{claim}", "{claim} Voici pourquoi :", "En bref : {claim}"),
}

ES: Final[Bank] = {
    "hook.open": (
        "Una reflexión rápida sobre {topic}.",
        "Lo que he aprendido sobre {topic}.",
        "Hablemos sobre {topic}.",
        "Hay algo que no dejo de notar.",
    ),
    "hook.open.formal": ("Una breve nota sobre {topic}.", "Algunas observaciones sobre {topic}."),
    "hook.open.playful": ("Atención, que esto va sobre {topic}.", "Dato curioso en camino."),
    "story.open": (
        "Una historia breve sobre {topic}.",
        "La semana pasada recordé por qué importa {topic}.",
        "Esto pasó hace poco.",
    ),
    "story.turn": ("Lo que me quedó:", "Lo que no dejo de pensar:", "La conclusión:"),
    "lesson.open": (
        "Una lección sobre {topic} que vuelvo a aprender:",
        "Lo que {topic} me ha enseñado:",
        "La lección a la que siempre vuelvo:",
    ),
    "lesson.why": ("Por qué importa para {audience}:", "Por qué importa:", "La razón:"),
    "list.open": (
        "{n} cosas sobre {topic} que vale la pena saber:",
        "{n} puntos sobre {topic} para {audience}:",
        "{n} notas rápidas:",
    ),
    "list.extra": (
        "Empezar poco a poco y medir lo que cambia.",
        "Anotar lo que se aprende por el camino.",
        "Compartir lo que funciona.",
        "Revisarlo al cabo de un mes.",
    ),
    "question.open": (
        "Una pregunta para {audience}:",
        "Pregunta honesta:",
        "Me interesa tu opinión:",
    ),
    "question.ask": (
        "¿Cómo abordas {topic}?",
        "¿Qué te ha funcionado con {topic}?",
        "¿Dónde te sitúas?",
    ),
    "question.ask.formal": (
        "¿Cómo aborda usted {topic}?",
        "¿Qué le ha funcionado con {topic}?",
        "¿Cuál es su postura?",
    ),
    "question.context": ("Algo de contexto:", "Por qué lo pregunto:", "Dónde estoy:"),
    "cta.open": (
        "Si {topic} te interesa, esto es para ti.",
        "Para {audience}:",
        "Vale la pena si trabajas en {topic}.",
        "Esto vale la pena.",
    ),
    "cta.close": (
        "Pruébalo y cuéntame qué tal.",
        "Pruébalo esta semana.",
        "Guárdalo para más adelante.",
    ),
    "cta.close.formal": ("Le invito a probarlo y compartir su experiencia.",),
    "contrarian.open": (
        "Opinión impopular sobre {topic}:",
        "Opinión sin filtro:",
        "Aquí no estoy de acuerdo con el consejo habitual sobre {topic}:",
    ),
    "contrarian.turn": (
        "El consejo habitual pasa esto por alto.",
        "Pocos lo esperan.",
        "De esto casi nadie habla.",
    ),
    "how_to.open": (
        "Cómo abordar {topic}, en {n} pasos:",
        "Una forma sencilla de manejar {topic}:",
        "{n} pasos que funcionan:",
    ),
    "source.intro": (
        "Vale la pena leer: «{title}».",
        "Acabo de leer «{title}».",
        "Este artículo se me quedó grabado: «{title}».",
    ),
    "link.intro": ("Léelo aquí:", "Enlace:", "Más información:"),
    "fallback.core": (
        "{Topic} merece más atención de la que recibe.",
        "{Topic} tiene más fondo de lo que parece.",
    ),
    "fallback.source": ("Una buena lectura que me hizo pensar.",),
    "close": ("¿Qué opinas?", "¿Cómo lo ves?", "Me interesa tu punto de vista."),
    "close.warm": (
        "Me encantaría saber cómo lo vives tú.",
        "Gracias por leer, cuéntame tu experiencia.",
        "Si te resuena, hablemos.",
    ),
    "close.direct": ("Te toca.", "Pruébalo esta semana.", "¿De acuerdo o no?"),
    "close.playful": ("¿Quién se apunta?", "¿Solo me pasa a mí?", "¡Vamos allá!"),
    "close.formal": (
        "Agradecería conocer su opinión.",
        "Sus comentarios son bienvenidos.",
        "Me interesa su punto de vista.",
    ),
    "reply.thanks": ("¡Gracias, {author}!", "Muchas gracias, {author}.", "¡Gracias por esto!"),
    "reply.thanks.formal": ("Muchas gracias, {author}.", "Gracias por su comentario."),
    "reply.question": ("Buena pregunta.", "Muy buena pregunta."),
    "reply.praise": ("Me alegra que te sirva.", "Lo agradezco mucho."),
    "reply.praise.formal": ("Me alegra que le sea útil.",),
    "reply.disagree": ("Buen punto, lo veo un poco diferente.", "Gracias por el contrapunto."),
    "reply.general": ("Gracias por compartirlo.", "Me gusta conocer tu punto de vista."),
    "reply.close": ("Sigamos la conversación.", "Con gusto lo hablamos más a fondo."),
    "reply.close.question": ("Escríbeme por mensaje y te lo cuento en detalle.",),
    "hook.suggest": ("{claim}", "{claim} Te cuento por qué:", "En resumen: {claim}"),
}

BANKS: Final[dict[str, Bank]] = {"en": EN, "de": DE, "fr": FR, "es": ES}

# Words whose presence in the persona's voice selects a tone; the earliest match wins.
TONE_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "formal": (
        "formal",
        "professional",
        "corporate",
        "polished",
        "academic",
        "serious",
        "förmlich",
        "seriös",
        "sachlich",
        "professionnel",
        "formel",
        "profesional",
    ),
    "playful": (
        "playful",
        "fun",
        "witty",
        "humorous",
        "humor",
        "cheeky",
        "quirky",
        "lighthearted",
        "light-hearted",
        "silly",
        "casual",
        "verspielt",
        "locker",
        "witzig",
        "ludique",
        "drôle",
        "divertido",
        "informal",
    ),
    "direct": (
        "direct",
        "blunt",
        "concise",
        "no-nonsense",
        "straightforward",
        "crisp",
        "punchy",
        "terse",
        "bold",
        "direkt",
        "klar",
        "knapp",
        "concis",
        "directo",
        "conciso",
    ),
    "warm": (
        "warm",
        "friendly",
        "kind",
        "empathetic",
        "caring",
        "supportive",
        "approachable",
        "encouraging",
        "herzlich",
        "freundlich",
        "chaleureux",
        "bienveillant",
        "cálido",
        "cercano",
        "amable",
    ),
}
TONES: Final = ("neutral", "warm", "direct", "playful", "formal")

# Filler words and hedges cut by "shorten"/"punchier" (regex, replacement), per language.
FILLERS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "en": (
        (r"\bat the end of the day,?\s*", ""),
        (r"\bit is important to note that\s*", ""),
        (r"\bit'?s worth noting that\s*", ""),
        (r"\bin my (humble )?opinion,?\s*", ""),
        (r"\bI (really )?(think|believe|feel like|feel) (that )?", ""),
        (r"\bdue to the fact that\b", "because"),
        (r"\bin order to\b", "to"),
        (r"\ba lot of\b", "many"),
        (
            r"\b(really|very|just|actually|basically|literally|simply|quite|truly|definitely|"
            r"honestly|totally|somewhat|pretty much|kind of|sort of)\s+",
            "",
        ),
    ),
    "de": (
        (r"\bmeiner Meinung nach,?\s*", ""),
        (r"\bich (denke|glaube|finde),? (dass )?", ""),
        (
            r"\b(wirklich|eigentlich|einfach|halt|eben|ziemlich|sehr|irgendwie|quasi|"
            r"grundsätzlich)\s+",
            "",
        ),
    ),
    "fr": (
        (r"\bà mon avis,?\s*", ""),
        (r"\bje (pense|crois) que\s*", ""),
        (r"\ben fait,?\s*", ""),
        (r"\b(vraiment|juste|tout simplement|simplement|très|plutôt|franchement)\s+", ""),
    ),
    "es": (
        (r"\ben mi opinión,?\s*", ""),
        (r"\b(creo|pienso) que\s*", ""),
        (r"\bla verdad es que\s*", ""),
        (r"\b(realmente|simplemente|muy|básicamente|bastante|literalmente)\s+", ""),
    ),
}

HEDGES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "en": (
        (r"\b(maybe|perhaps|probably|possibly)\s+", ""),
        (r"\bit seems (that|like)\s*", ""),
        (r"\ba (little )?bit\s+", ""),
        (r"\bI guess,?\s*", ""),
    ),
    "de": ((r"\b(vielleicht|wahrscheinlich|eventuell|möglicherweise)\s+", ""),),
    "fr": ((r"\b(peut-être|probablement|sans doute)\s+", ""),),
    "es": ((r"\b(quizás|quizá|tal vez|probablemente)\s+", ""),),
}

STRONG_WORDS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "en": (
        (r"\bvery important\b", "crucial"),
        (r"\bvery good\b", "great"),
        (r"\bvery big\b", "huge"),
        (r"\bvery small\b", "tiny"),
        (r"\bvery bad\b", "terrible"),
        (r"\bvery hard\b", "tough"),
        (r"\bvery easy\b", "simple"),
        (r"\b(is|are) able to\b", "can"),
        (r"\bhas the ability to\b", "can"),
        (r"\bmake a decision\b", "decide"),
        (r"\bmade a decision\b", "decided"),
        (r"\butili[sz]e\b", "use"),
        (r"\btake a look at\b", "look at"),
        (r"\bcome up with\b", "create"),
        (r"\bget rid of\b", "drop"),
        (r"\bin order to\b", "to"),
    ),
    "de": (
        (r"\bsehr wichtig\b", "entscheidend"),
        (r"\bsehr gut\b", "stark"),
        (r"\beine Entscheidung treffen\b", "entscheiden"),
    ),
    "fr": (
        (r"\btrès important\b", "essentiel"),
        (r"\btrès bon\b", "excellent"),
        (r"\bprendre une décision\b", "décider"),
    ),
    "es": (
        (r"\bmuy importante\b", "clave"),
        (r"\bmuy bueno\b", "excelente"),
        (r"\btomar una decisión\b", "decidir"),
    ),
}

# Where a long sentence may be split into two (", but" -> ". But"), per language.
SPLIT_CONJUNCTIONS: Final[dict[str, tuple[str, ...]]] = {
    "en": ("and", "but", "so", "which means"),
    "de": ("und", "aber", "denn"),
    "fr": ("et", "mais", "donc"),
    "es": ("y", "pero", "así que"),
}

CONTRACTIONS: Final = (
    ("do not", "don't"),
    ("does not", "doesn't"),
    ("did not", "didn't"),
    ("cannot", "can't"),
    ("will not", "won't"),
    ("is not", "isn't"),
    ("are not", "aren't"),
    ("it is", "it's"),
    ("that is", "that's"),
    ("here is", "here's"),
    ("what is", "what's"),
    ("there is", "there's"),
    ("I am", "I'm"),
    ("I would", "I'd"),
    ("I have", "I've"),
    ("we are", "we're"),
    ("you are", "you're"),
    ("let us", "let's"),
    ("one is", "one's"),
)

CASUAL_TO_FORMAL: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "en": (
        (r"\bawesome\b", "excellent"),
        (r"\bgonna\b", "going to"),
        (r"\bwanna\b", "want to"),
        (r"\bkinda\b", "somewhat"),
        (r"\bfolks\b", "colleagues"),
        (r"\bguys\b", "everyone"),
        (r"\bhey\b", "hello"),
        (r"\bstuff\b", "material"),
        (r"\bsuper\b", "very"),
        (r"\bokay\b", "well"),
    ),
    "de": ((r"\bHey\b", "Hallo"), (r"\bsuper\b", "sehr gut"), (r"\bLeute\b", "alle")),
    "fr": ((r"\bsalut\b", "bonjour"), (r"\bsuper\b", "excellent"), (r"\btrucs?\b", "éléments")),
    "es": (
        (r"\bhola chicos\b", "hola a todos"),
        (r"\bsúper\b", "muy"),
        (r"\bcosas\b", "elementos"),
    ),
}

LEAD_WORDS: Final = ("?",)
PRAISE_WORDS: Final = (
    "thank",
    "great",
    "love",
    "helpful",
    "useful",
    "awesome",
    "brilliant",
    "nice",
    "well said",
    "danke",
    "super",
    "toll",
    "klasse",
    "hilfreich",
    "merci",
    "génial",
    "bravo",
    "utile",
    "gracias",
    "genial",
    "excelente",
    "útil",
)
DISAGREE_WORDS: Final = (
    "disagree",
    "not sure",
    "wrong",
    "don't think",
    "doubt",
    "nicht einverstanden",
    "sehe das anders",
    "falsch",
    "pas d'accord",
    "pas sûr",
    "faux",
    "no estoy de acuerdo",
    "no creo",
    "equivocado",
)
DEFAULT_EMOJI: Final = "✨"
