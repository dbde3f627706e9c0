"""The lead-detection rule table: every pattern, its weight and the reason it produces.

Patterns run on *normalised* text (see ``leads.normalise``): Unicode NFKD with accents stripped,
case-folded, typographic apostrophes turned into ``'`` and whitespace collapsed. So patterns are
written in plain lower-case ASCII ("orcamento" matches "Orçamento", "etes-vous" matches
"Êtes-vous"). Each rule lists patterns per language (en, de, fr, es, pt); all languages run on
every text, because comments mix languages and the platform rarely tells us which one it is.

Weights are log-odds points (see ``leads`` for how they are combined and squashed):

=====================  ======  =======================================================
code                   weight  meaning
=====================  ======  =======================================================
direct_ask              +3.5   "can we talk", "DM me", "book a call", "do you consult"
pricing_question        +3.3   asks what *you* charge: "how much do you charge", "your rates"
availability_question   +3.3   "are you available", "taking on new clients"
buying_intent           +3.0   "we're looking for", "need help with", "hire you", "proposal"
service_question        +3.1   "do you offer workshops", "is this something you help with"
budget_mention          +2.0   "budget", "quote", "RFP", "retainer"
generic_price_question  +2.0   "how much does it cost" (no "you": could be idle curiosity)
company_need            +1.5   "our team", "our company", "for my startup"
decision_maker          +1.2   "as CTO", "I'm the founder of" (in the text)
job_title               +1.2   decision-maker title in the author's bio (CEO, head of, VP...)
company_account         +0.5   the author's name looks like a company (GmbH, Ltd, Inc...)
praise_only             -1.0   "great post", "love this" -- only when nothing positive matched
bio_job_seeker          -1.5   the bio says "open to work", "student", "seeking"
bio_vendor              -0.8   the bio sells growth/lead-gen/SEO services
curiosity               -2.5   "how much did that cost you?" (past tense, about the author)
peer_question           -2.5   "does anyone know", "I need help with this too"
networking              -3.0   "at the meetup", "growing my network", "alumni"
negated                 -3.0   "not looking for", "no budget", "not interested"
vendor_pitch            -4.5   "we offer SEO services", "I can help you grow"
job_seeker              -5.0   "are you hiring", "looking for a job", "my CV"
spam                    -6.0   "check out my", "follow me", crypto, giveaways
=====================  ======  =======================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Source = Literal["text", "bio", "name"]
LANGUAGES: Final = ("en", "de", "fr", "es", "pt")

# Small reusable fragments (normalised text, so no accents).
_WE_ARE = r"(?:we'?re|we are|were)"
_I_AM = r"(?:i'?m|i am|im)"
_YOU = r"(?:you|u|ya)"


@dataclass(frozen=True)
class Rule:
    """One signal: a machine code, a weight, a reason label and patterns per language."""

    code: str
    weight: float
    label: str
    patterns: dict[str, tuple[str, ...]]
    source: Source = "text"

    @property
    def positive(self) -> bool:
        """True for signals that make a lead more likely."""
        return self.weight > 0


RULES: Final[tuple[Rule, ...]] = (
    Rule(
        code="direct_ask",
        weight=3.5,
        label="asks to talk directly",
        patterns={
            "en": (
                r"\b(?:can|could) (?:we|i)(?: \S+){0,3} (?:talk|chat|speak|connect|set up a call|"
                r"hop on a call)\b",
                r"\bis (?:a |an )?(?:quick |short )?(?:call|chat|meeting) (?:\S+ ){0,3}"
                r"(?:possible|an option|ok|okay)\b",
                r"\b(?:take|move|continue) (?:this|it|the conversation) (?:to|over to|via|by|on) "
                r"(?:email|e-mail|dms?|inbox|a call|phone)\b",
                r"\b(?:possible|open) to (?:discuss|discussing|talk|talking) (?:this|it|further)\b",
                r"\bany chance (?:you'?d|you would|you|we could)\b",
                r"\blet'?s (?:talk|chat|connect|set up a call|hop on a call|jump on a call)\b",
                r"\b(?:dm|pm|message|inbox) me\b",
                r"\b(?:sent|dropped|send|drop) (?:you )?(?:a )?(?:dm|pm|message|note)\b",
                r"\bcheck (?:your|ur) (?:dms?|inbox|messages)\b",
                r"\b(?:book|schedule|set up|arrange|grab|hop on|jump on|have) "
                r"(?:a |an )?(?:quick |short |brief |15 ?min(?:ute)? |30 ?min(?:ute)? )?"
                r"(?:call|meeting|chat|demo|intro call|discovery call)\b",
                r"\bsend me (?:your|ur) (?:email|e-mail|contact|number|calendar|calendly|deck)\b",
                r"\bwhat'?s (?:your|the best) (?:email|e-mail|way to (?:reach|contact) you)\b",
                r"\bhow (?:can|do|could) (?:i|we) (?:reach|contact|get in touch with|book) you\b",
                r"\b(?:do|would) you (?:consult|do consulting|offer consulting|do advisory)\b",
                r"\b(?:can|could|would) you help (?:us|me|our)\b",
                r"\bwould (?:love|like) to (?:chat|talk|connect|discuss|have a chat)\b",
                r"\bwould you be (?:open|up|available) (?:to|for) (?:a )?"
                r"(?:call|chat|conversation|discussion|meeting)\b",
                r"\bbest (?:way|person) to (?:reach|contact)\b",
                r"\bget in touch\b",
            ),
            "de": (
                r"\bkonnen wir(?: \S+){0,3} (?:sprechen|telefonieren|reden|austauschen)\b",
                r"\b(?:hab|habe|haben) (?:ihnen|dir|euch) (?:\S+ ){0,3}(?:geschrieben|"
                r"eine nachricht|eine mail|eine e-mail|eine pn)\b",
                r"\blass(?:t)? uns (?:mal |kurz )?(?:sprechen|telefonieren|reden|austauschen)\b",
                r"\b(?:schreib|schreiben sie) mir\b",
                r"\b(?:pn|dm|direktnachricht|nachricht) (?:an mich|geschickt|gesendet)\b",
                r"\b(?:meld dich|melden sie sich)\b",
                r"\b(?:termin|call|gesprach|telefonat) (?:vereinbaren|ausmachen|buchen)\b",
                r"\b(?:beraten|coachen) sie (?:auch )?\b",
                r"\bbietet ihr (?:auch )?(?:beratung|workshops?|schulungen?|coaching)\b",
                r"\bbieten sie (?:auch )?(?:beratung|workshops?|schulungen?|coaching)\b",
                r"\b(?:ihre|deine) (?:e-?mail|kontaktdaten|nummer)\b",
                r"\b(?:konnen|konnten) sie uns (?:dabei |da )?(?:helfen|unterstutzen)\b",
                r"\b(?:kannst|konntest) du uns (?:dabei |da )?(?:helfen|unterstutzen)\b",
                r"\bwie erreiche ich sie\b",
            ),
            "fr": (
                r"\b(?:peut|pourrait|pourrions|pouvons)[- ](?:on|nous) (?:en )?"
                r"(?:parler|discuter|echanger|s'appeler)\b",
                r"\bon peut (?:en )?(?:parler|discuter|echanger|s'appeler)\b",
                r"\b(?:possible|envie|moyen) d'en (?:discuter|parler)\b",
                r"\bje (?:vous|t') ?ai (?:envoye|ecrit|laisse)\b",
                r"\b(?:envoyez|envoie|ecrivez|ecris)[- ]moi\b",
                r"\bcontactez[- ]moi\b",
                r"\ben (?:mp|dm|prive)\b",
                r"\b(?:prendre|fixer|caler|planifier) (?:un )?(?:rendez-vous|rdv|appel|call)\b",
                r"\bfaites[- ]vous (?:du )?(?:conseil|consulting|accompagnement)\b",
                r"\bproposez[- ]vous (?:du |des |de l')?(?:conseil|formations?|ateliers?|"
                r"accompagnement|coaching)\b",
                r"\bvotre (?:e-?mail|mail|adresse|contact)\b",
                r"\b(?:pourriez|pouvez)[- ]vous nous (?:aider|accompagner)\b",
            ),
            "es": (
                r"\bpodemos (?:hablar|conversar|charlar|agendar)\b",
                r"\b(?:hablamos|lo hablamos|charlamos)\s*\?",
                r"\b(?:te|le) (?:escribi|envie|mande)\b",
                r"\b(?:escribeme|escribame|contactame|contacteme)\b",
                r"\b(?:mandame|enviame|envieme) (?:un )?(?:dm|md|mensaje|privado|correo)\b",
                r"\bpor (?:privado|dm|md|interno)\b",
                r"\b(?:agendar|programar|coordinar|tener) (?:una )?(?:llamada|reunion"
                r"|videollamada)\b",
                r"\b(?:haces|hace|hacen|ofreces|ofrece|ofrecen) "
                r"(?:consultoria|asesoria|talleres|formacion|mentorias?)\b",
                r"\b(?:tu|su) (?:correo|email|e-mail|contacto)\b",
                r"\b(?:podrias|podria|puedes|puede) ayudarnos\b",
            ),
            "pt": (
                r"\b(?:podemos|vamos) (?:conversar|falar|bater um papo|marcar)\b",
                r"\b(?:te|lhe) (?:mandei|enviei|escrevi)\b",
                r"\bcomo (?:faco|fazemos|posso) (?:para )?(?:falar|entrar em contato) com "
                r"(?:voce|vc)\b",
                r"\b(?:me )?chama (?:no|na) (?:dm|direct|inbox|privado|pv)\b",
                r"\bme (?:manda|mande|envia|envie) (?:uma )?(?:dm|mensagem|direct|email|e-mail)\b",
                r"\b(?:agendar|marcar) (?:uma )?(?:call|reuniao|conversa|ligacao)\b",
                r"\b(?:voce|vc) (?:faz|oferece|presta) (?:consultoria|mentoria|assessoria|"
                r"treinamentos?|workshops?)\b",
                r"\b(?:seu|teu) (?:email|e-mail|contato|whatsapp)\b",
                r"\b(?:poderia|pode|consegue) nos ajudar\b",
            ),
        },
    ),
    Rule(
        code="pricing_question",
        weight=3.3,
        label="asks about pricing",
        patterns={
            "en": (
                r"\bhow much (?:do|would|will|does|did) " + _YOU + r" (?:charge|ask|bill)\b",
                r"\bwhat (?:do|would|does) " + _YOU + r" charge\b",
                r"\b(?:your|ur) (?:rates?|pricing|prices?|fees?|day rate|hourly rate|packages)\b",
                r"\bhow much (?:would|will|does|is) (?:it|that|this) (?:cost|be) "
                r"(?:to (?:hire|work with|book|get) you|for (?:us|me|our))\b",
                r"\b(?:cost|price) (?:of|for) (?:working with|hiring|booking) you\b",
                r"\bhow much for (?:a|an|the|your|one)\b",
                r"\bhow much (?:would|will|does|is)\b[^.?!]{0,60}\b(?:cost|run|set) (?:us|me)\b",
                r"\b(?:talk|speak) to about (?:fees|pricing|rates|booking|budget)\b",
                r"\b(?:price list|rate card|pricing sheet)\b",
                r"\bsend (?:me|us|over) (?:your |the )?(?:pricing|prices|rates)\b",
            ),
            "de": (
                r"\bwas (?:kostet|kosten|verlangen|nehmen) (?:sie|du|ihr|eine?|das bei)\b",
                r"\bwie ?viel (?:kostet|kosten|verlangen|nehmen) (?:sie|du|ihr|eine?)\b",
                r"\b(?:ihre|deine|eure) (?:preise|konditionen|tagessatze?|stundensatze?"
                r"|honorare?)\b",
                r"\b(?:tagessatz|stundensatz|preisliste)\b",
                r"\b(?:was|wie ?viel) (?:kostet|kosten|nehmen|verlangen)\b[^.?!]{0,30}"
                r"\bbei (?:ihnen|dir|euch)\b",
                r"\bbei (?:ihnen|dir|euch)\b[^.?!]{0,30}\b(?:kostet|kosten)\b",
            ),
            "fr": (
                r"\bcombien (?:facturez|prenez|demandez)[- ]vous\b",
                r"\bcombien (?:coute|coutent|couterait|ca coute) (?:vos|votre)\b",
                r"\bvos (?:tarifs|prix|honoraires|conditions)\b",
                r"\b(?:quel|quels) (?:est|sont) (?:votre|vos) (?:tarif|prix|tjm)s?\b",
                r"\b(?:grille tarifaire|tjm)\b",
            ),
            "es": (
                r"\bcuanto (?:cobras|cobra|cobran|cobrarias|cobraria)\b",
                r"\bcuanto (?:cuesta|cuestan|costaria|sale) (?:tu|su|tus|sus)\b",
                r"\b(?:tus|sus) (?:tarifas|precios|honorarios)\b",
                r"\blista de precios\b",
            ),
            "pt": (
                r"\bquanto (?:voce |vc )?(?:cobra|cobram|cobraria)\b",
                r"\bquanto (?:custa|custaria|sai) (?:o seu|a sua|seu|sua|teu|tua)\b",
                r"\b(?:seus|teus) (?:precos|valores|honorarios)\b",
                r"\btabela de (?:precos|valores)\b",
            ),
        },
    ),
    Rule(
        code="availability_question",
        weight=3.3,
        label="asks about availability",
        patterns={
            "en": (
                r"\bare " + _YOU + r" (?:currently |still )?(?:available|free|booked)\b",
                r"\b(?:do|would) " + _YOU + r" have (?:any )?(?:capacity|availability|bandwidth|"
                r"room|time) (?:for|to|in|this|next)\b",
                r"\b(?:taking|take|accepting|accept) (?:on )?(?:any )?(?:new )?"
                r"(?:clients|projects|engagements|customers|work)\b",
                r"\bare " + _YOU + r" open (?:to|for) (?:new )?"
                r"(?:projects|clients|engagements|contracts|freelance)\b",
                r"\bwhen (?:are|would) " + _YOU + r" (?:be )?(?:available|free)\b",
                r"\b(?:your|ur) (?:availability|capacity|calendar|schedule) (?:like|in|for|this"
                r"|next)\b",
                r"\bare " + _YOU + r" still (?:doing|offering|running|taking)\b",
            ),
            "de": (
                r"\b(?:sind sie|bist du|seid ihr) (?:noch |aktuell |gerade )?(?:verfugbar|frei"
                r"|buchbar)\b",
                r"\b(?:haben sie|hast du|habt ihr) (?:noch |aktuell |gerade )?"
                r"(?:freie )?(?:kapazitat(?:en)?|zeit fur)\b",
                r"\b(?:nehmen sie|nimmst du|nehmt ihr) (?:noch |aktuell )?(?:neue )?"
                r"(?:kunden|auftrage|projekte|mandate)\b",
            ),
            "fr": (
                r"\betes[- ]vous (?:encore |actuellement )?(?:disponible|dispo|libre)s?\b",
                r"\b(?:avez|auriez)[- ]vous (?:de la |des )?(?:disponibilites?|capacite|place)\b",
                r"\bprenez(?:[- ]vous)? (?:encore |actuellement )?(?:de nouveaux |des )?"
                r"(?:clients|projets|missions)\b",
            ),
            "es": (
                r"\b(?:tienes|tiene|tienen) (?:disponibilidad|agenda|hueco|capacidad)\b",
                r"\b(?:estas|esta|estan) (?:disponible|libre)s?\b",
                r"\b(?:aceptas|acepta|aceptan|tomas|toma) (?:nuevos )?(?:clientes|proyectos)\b",
            ),
            "pt": (
                r"\b(?:voce|vc) (?:esta|ta) (?:disponivel|livre)\b",
                r"\b(?:tem|teria) (?:disponibilidade|agenda|espaco na agenda)\b",
                r"\b(?:aceita|aceitam|pega|pegam) (?:novos )?(?:clientes|projetos)\b",
            ),
        },
    ),
    Rule(
        code="buying_intent",
        weight=3.0,
        label="shows buying intent",
        patterns={
            "en": (
                r"\b(?:" + _WE_ARE + r"|" + _I_AM + r") (?:currently |actively |now )?"
                r"(?:looking for|searching for|seeking|in the market for|shopping for) "
                r"(?:a |an |some |someone|somebody|help|support|an? outside)",
                r"\b(?:we|i) (?:really )?(?:need|could use|want) (?:some )?(?:help|support|"
                r"someone|somebody|an expert|a consultant|an agency|a partner|guidance) "
                r"(?:with|on|for|to|who)\b",
                r"\bneed(?:s|ed)? (?:some )?(?:outside |external )?help with\b",
                r"\b(?:get|need|bring in|find) (?:some )?(?:outside|external|expert|professional) "
                r"(?:help|support|expertise)\b",
                r"\b(?:hire|hiring|bring in|engage|retain|book) (?:you|someone like you)\b",
                r"\b(?:bring|get) you (?:in|on board|onboard|to)\b",
                r"\bwhat would it take to (?:get|hire|have|bring|book) you\b",
                r"\b(?:start|begin|starting|ready to|want to|like to|love to|keen to) "
                r"work(?:ing)? with you\b",
                r"\b(?:evaluating|shortlisting|comparing|vetting|interviewing) "
                r"(?:vendors|agencies|consultants|providers|partners|suppliers|freelancers)\b",
                r"\b(?:ready|planning|want|looking|about) to invest in\b",
                r"\b(?:we|i)(?:'d| would) need (?:about |around |roughly )?(?:\d+|a |an |some"
                r"|someone|"
                r"help)",
                r"\b(?:we|i) (?:have|'ve got|have got|'ve set aside|set aside|have set aside) "
                r"(?:a |some )?budget\b",
                r"\bbudget (?:set aside|approved|allocated|earmarked|signed off)\b",
                r"\b(?:we|i) have a (?:real |concrete |clear )?need for\b",
                r"\b(?:like|want|need|get|request|send|give|prepare|share|provide)(?: us| me)?"
                r"(?: with)? (?:a |an |your |some |\w+ )?(?:quote|quotes|proposal|estimate)\b",
                r"\b(?:be able to|could you|can you|would you|please) quote\b",
                r"\blooking to (?:hire|bring in|engage|outsource|work with)\b",
                r"\b(?:want|like|love|keen) to work with you\b",
                r"\b(?:send|prepare|put together|share) (?:us |me )?(?:a |an )?(?:proposal|quote|"
                r"estimate|sow|statement of work)\b",
                r"\bexactly what (?:we|our team|my team|our company|i) (?:need|needs|are "
                r"looking for)\b",
                r"\binterested in (?:your|working with you|a demo|the (?:service|program|course|"
                r"workshop))\b",
                r"\b(?:sign|signing) (?:us|me) up\b",
            ),
            "de": (
                r"\b(?:wir|ich) (?:suchen|suche)(?: \S+){0,4} (?:nach )?(?:einen|eine|einem|einer|"
                r"jemand|jemanden|unterstutzung|hilfe|berater|beratung|externe|dienstleister|"
                r"agentur|partner)",
                r"\bzusammenarbeit mit (?:ihnen|dir|euch)\b",
                r"\b(?:haben|hat|hatten|hatte) (?:akuten |konkreten |grossen |dringenden "
                r")?bedarf\b",
                r"\b(?:uns|mir) (?:ein|einen) (?:angebot|kostenvoranschlag)\b",
                r"\b(?:haben|hatten) (?:dafur |dafuer |ein |das )?budget\b",
                r"\bbudget (?:eingeplant|freigegeben|genehmigt|vorgesehen)\b",
                r"\b(?:wir|ich) (?:brauchen|brauche|benotigen|benotige) (?:dringend )?"
                r"(?:hilfe|unterstutzung|jemand|jemanden|einen|eine|beratung)\b",
                r"\b(?:sie|dich|euch) (?:beauftragen|buchen|engagieren|anfragen)\b",
                r"\bmit (?:ihnen|dir|euch) zusammen(?:zu)?arbeiten\b",
                r"\b(?:angebot|kostenvoranschlag) (?:schicken|senden|machen|erstellen|zukommen)\b",
                r"\bgenau (?:das|so etwas|sowas),? was wir (?:brauchen|suchen)\b",
            ),
            "fr": (
                r"\b(?:nous (?:re)?cherchons|on (?:re)?cherche|je (?:re)?cherche) "
                r"(?:actuellement |activement )?(?:un |une |quelqu'un|de l'aide|un\.e )",
                r"\b(?:nous avons|on a|j'ai) besoin (?:d'aide|d'un|d'une|de quelqu'un|"
                r"d'accompagnement|de vous)\b",
                r"\b(?:faire appel a vous|travailler avec vous|vous embaucher|vous solliciter)\b",
                r"\b(?:envoyer|faire|etablir|obtenir|demander|recevoir) (?:un )?devis\b",
                r"\b(?:nous avons|on a|j'ai) (?:un |du )?budget\b",
                r"\bbudget (?:prevu|valide|alloue|debloque)\b",
                r"\b(?:nous avons|on a|j'ai) un besoin\b",
                r"\bexactement ce (?:dont|qu') ?(?:nous avons|on a|j'ai) besoin\b",
            ),
            "es": (
                r"\b(?:estamos buscando|buscamos|estoy buscando|busco) "
                r"(?:a )?(?:un |una |alguien|ayuda|apoyo)",
                r"\b(?:necesitamos|necesito) (?:ayuda|apoyo|a alguien|un |una |asesoria)",
                r"\b(?:contratarte|contratarle|contratarlos|trabajar con (?:usted|vos|ustedes|"
                r"contigo|ti))\b",
                r"\b(?:enviar|mandar|pasar|hacer|dar)(?:nos|me)? (?:una |un )?"
                r"(?:cotizacion|propuesta|presupuesto)\b",
                r"\b(?:quiero|queremos|necesitamos|necesito|solicitar|pedir|pedirte) (?:una |un )?"
                r"(?:cotizacion|propuesta|presupuesto)\b",
                r"\b(?:tenemos|tengo) presupuesto\b",
                r"\b(?:tenemos|tengo) (?:una )?necesidad\b",
                r"\bpresupuesto (?:aprobado|asignado)\b",
                r"\bjusto lo que (?:necesitamos|buscamos)\b",
            ),
            "pt": (
                r"\b(?:estamos procurando|procuramos|estamos buscando|buscamos|estou procurando) "
                r"(?:um |uma |alguem|ajuda|apoio)",
                r"\b(?:precisamos|preciso) (?:de )?(?:ajuda|apoio|alguem|um |uma |consultoria)",
                r"\b(?:te contratar|contratar voce|contratar vc|trabalhar com (?:voce|vc|voces))\b",
                r"\b(?:enviar|mandar|passar|fazer)(?:-me|-nos)? (?:um |uma )?"
                r"(?:proposta|cotacao|orcamento)\b",
                r"\b(?:quero|queremos|precisamos de|gostaria de|gostariamos de|pedir|solicitar|"
                r"receber) (?:um |uma )?(?:orcamento|proposta|cotacao)\b",
                r"\btemos (?:verba|orcamento)\b",
                r"\b(?:temos|tenho) (?:uma )?necessidade\b",
                r"\b(?:verba|orcamento) aprovad[oa]\b",
                r"\bexatamente o que (?:precisamos|procuramos)\b",
            ),
        },
    ),
    Rule(
        code="service_question",
        weight=3.1,
        label="asks about services",
        patterns={
            "en": (
                r"\b(?:do|would|could) " + _YOU + r" (?:offer|run|sell|provide|do|have) "
                r"(?:a |an |any )?(?:in-house |private |custom |1:1 |one-on-one )?"
                r"(?:workshops?|trainings?|courses?|coaching|consulting|audits?|programs?|"
                r"services?|packages?|retainers?|sessions?|mentoring|advisory)\b",
                r"\b(?:is this|is that) (?:something|a service) " + _YOU + r" (?:help|offer|do|"
                r"could help|provide|work on)\b",
                r"\bdo " + _YOU + r" (?:work|help) with (?:companies|teams|startups|clients|"
                r"businesses|brands|smaller|agencies|b2b|saas)\b",
                r"\b(?:could|can|would) " + _YOU + r" (?:do|run|deliver|build|set up|implement) "
                r"(?:this|that|something like this|the same|a similar)\b.{0,30}\bfor (?:us|our"
                r"|me)\b",
                r"\bdo " + _YOU + r" do this for (?:clients|companies|others|teams)\b",
                r"\b(?:do|would|could|can|will) " + _YOU + r" (?:still |also |ever )?"
                r"(?:take on|do|offer|run|provide|sell|handle|accept)\b[^.?!]{0,30}\b(?:consulting|"
                r"advisory|projects?|workshops?|trainings?|coaching|audits?|copywriting|design|"
                r"freelance|engagements?|contracts?|retainers?|sessions?|mentoring|speaking"
                r"|talks?)\b",
                r"\b(?:is this|is that|would this be|is it) (?:something|a service|anything) "
                + _YOU
                + r"\b",
                r"\bhow (?:do|would) " + _YOU + r" (?:usually |typically )?work with "
                r"(?:clients|companies|teams|customers)\b",
                r"\bhow " + _YOU + r"(?:'d| would) (?:approach|tackle|handle|solve|structure)\b",
                r"\b(?:would|could|does|do|can|will) (?:your|ur) (?:\S+ ){0,3}(?:workshops?"
                r"|trainings?|"
                r"courses?|programs?|services?|coaching|packages?|offer|method|approach)s? "
                r"(?:work|fit|apply|help|suit)\b",
                r"\b(?:build|set up|do|run) (?:one|this|it|that|something similar) for (?:us"
                r"|our|me)\b",
            ),
            "de": (
                r"\b(?:bieten sie|bietest du|bietet ihr|machen sie|macht ihr) (?:so etwas|sowas"
                r"|das) "
                r"(?:auch )?(?:fur|als)\b",
                r"\b(?:helfen sie|hilfst du|helft ihr) (?:auch )?(?:unternehmen|firmen|teams"
                r"|kunden)\b",
                r"\b(?:ist das|ware das) (?:etwas|was),? (?:das|wobei) (?:sie|du|ihr)\b",
                r"\b(?:bieten sie|bietest du|bietet ihr) (?:so etwas|sowas|das"
                r"|\S+)\b[^.?!]{0,40}\ban\b",
                r"\b(?:sie|du|ihr) (?:auch )?(?:\S+ ){0,2}(?:unternehmen|firmen|teams|kunden"
                r"|startups|"
                r"betriebe|mittelstandler) (?:beraten|begleiten|unterstutzen|betreuen|coachen)\b",
                r"\bwie arbeiten (?:sie|du|ihr) mit (?:ihren |deinen |euren )?kunden\b",
            ),
            "fr": (
                r"\b(?:accompagnez|aidez|conseillez)(?:[- ]vous)? (?:aussi |egalement )?"
                r"(?:des |les )?(?:entreprises|equipes|startups|start-ups|pme|clients|eti|"
                r"associations)\b",
                r"\bcomment (?:vous )?travaillez(?:[- ]vous)? avec (?:vos |les )?clients\b",
                r"\bc'est (?:quelque chose|un service) que vous (?:proposez|faites|offrez)\b",
            ),
            "es": (
                r"\b(?:trabajas|trabaja|trabajan|ayudas|ayuda|atienden|atiendes) (?:con |a )?"
                r"(?:empresas|equipos|startups|pymes)\b",
                r"\bcomo (?:trabajas|trabaja|trabajan) con (?:tus |sus )?clientes\b",
                r"\bes algo (?:que|en lo que) (?:ofreces|ofrece|haces|hace|puedes|puede)\b",
            ),
            "pt": (
                r"\b(?:voce|vc|voces)? ?(?:trabalha|trabalham|atende|atendem|ajuda|ajudam) "
                r"(?:com )?"
                r"(?:empresas|times|equipes|startups)\b",
                r"\bcomo (?:voce |vc )?trabalha com (?:seus )?clientes\b",
                r"\be algo que (?:voce|vc) (?:oferece|faz)\b",
            ),
        },
    ),
    Rule(
        code="budget_mention",
        weight=2.0,
        label="mentions budget, a quote or a proposal",
        patterns={
            "en": (
                r"\b(?:budget|budgeted|quote|quotation|proposal|rfp|rfq|retainer|sow|purchase "
                r"order)\b",
            ),
            "de": (r"\b(?:budget|kostenvoranschlag|angebotsanfrage|ausschreibung|auftrag)\b",),
            "fr": (r"\b(?:budget|devis|appel d'offres|cahier des charges)\b",),
            "es": (r"\b(?:presupuesto|cotizacion|propuesta comercial|licitacion)\b",),
            "pt": (r"\b(?:orcamento|cotacao|proposta comercial|licitacao)\b",),
        },
    ),
    Rule(
        code="generic_price_question",
        weight=2.0,
        label="asks what it costs",
        patterns={
            "en": (
                r"\bhow much (?:does|would|will|is) (?:it|this|that|a|an|one|the)\b[^.?!]{0,40}"
                r"\b(?:cost|costs|be|run)\b",
                r"\bwhat (?:does|would) (?:it|this|that|a|an|the)\b[^.?!]{0,40}\bcost\b",
                r"\bwhat(?:'s| is) the (?:price|pricing|cost)\b",
            ),
            "de": (
                r"\b(?:was|wie ?viel) (?:kostet|wurde|kosten) (?:das|so etwas|sowas|es)\b",
                r"\b(?:was|wie ?viel) (?:wurde|wurden|konnte|kostet|kosten) (?:ein|eine|der|die"
                r"|das)\b"
                r"[^.?!]{0,60}\bkosten\b",
            ),
            "fr": (
                r"\bcombien (?:ca coute|cela coute|ca couterait|coute ce)\b",
                r"\bcombien (?:coute|coutent|couterait|couteraient) (?:un|une|l'|la|le|les)\b",
            ),
            "es": (
                r"\bcuanto (?:cuesta|costaria|sale) (?:esto|eso|algo asi)\b",
                r"\bcuanto (?:cuesta|cuestan|costaria|sale) (?:un|una|el|la|los|las)\b",
            ),
            "pt": (
                r"\bquanto (?:custa|custaria|sai) (?:isso|algo assim)\b",
                r"\bquanto (?:custa|custam|custaria|sai) (?:um|uma|o|a|os|as)\b",
            ),
        },
    ),
    Rule(
        code="company_need",
        weight=1.5,
        label="speaks for a company need",
        patterns={
            "en": (
                r"\b(?:our|my) (?:team|company|startup|business|org|organi[sz]ation|firm|agency|"
                r"clinic|practice|store|shop|brand|department|school|nonprofit|board|product|"
                r"marketing team|sales team|engineering team|leadership team|"
                r"\w+ team)\b",
                r"\bfor (?:a |my |our )(?:\w+ ){0,2}(?:startup|company|team|business|firm|org|app|"
                r"product|launch|brand|store|shop|website|clinic)\b",
                r"\bour (?:ceo|cfo|cto|coo|board|founders|leadership|management|boss|hr|it "
                r"department)\b",
                r"\b(?:a|an) \d+[- ]?(?:person|people|employee|staff)s? (?:company|team|firm"
                r"|startup|"
                r"org|business)\b",
                r"\b" + _WE_ARE + r" (?:a|an) (?:\d+|small|growing|mid-sized|series [a-d]|b2b|saas)"
                r"[- ]?(?:person|people|employee)?\b",
                r"\bat (?:my|our) (?:company|startup|firm|org|work)\b",
                r"\b(?:we|we've|we have) (?:just )?(?:raised|closed) (?:our |a )?(?:seed|series"
                r"|round|\$)",
            ),
            "de": (
                r"\b(?:unser|unsere|unserem|unseren|unserer|meine|meinem|meiner) "
                r"(?:team|firma|unternehmen|startup|agentur|betrieb|kanzlei|praxis|abteilung|"
                r"vertrieb|marketing|geschaftsfuhrung)\b",
                r"\bfur (?:ein|unser|unsere|mein|meine) (?:team|firma|unternehmen|startup)\b",
                r"\b(?:haben|wir) (?:gerade |eben )?(?:eine finanzierungsrunde|unsere seed|"
                r"\S+ (?:euro|eur|mio))\b",
                r"\bwir sind (?:ein|eine) (?:\S+ )?(?:mittelstandler|startup|unternehmen|"
                r"familienunternehmen|betrieb|agentur|kanzlei|team)\b",
            ),
            "fr": (
                r"\b(?:notre|nos|ma|mon) (?:equipe|entreprise|societe|startup|start-up|boite|pme|"
                r"agence|cabinet|direction|service|equipes)\b",
                r"\b(?:d'une|une|notre) (?:pme|eti|startup|start-up|entreprise) de \d+",
                r"\b(?:nous venons|on vient) de lever\b",
            ),
            "es": (
                r"\b(?:nuestra|nuestro|nuestros|mi) (?:empresa|startup|compania|agencia|pyme|"
                r"equipo|negocio|despacho|departamento)\b",
                r"\b(?:acabamos de|hemos) (?:levantar|levantado|cerrar|cerrado) (?:una "
                r")?(?:ronda|inversion)\b",
            ),
            "pt": (
                r"\b(?:nossa|nosso|nossos|minha|meu) (?:empresa|equipe|startup|time|negocio|"
                r"agencia|escritorio|departamento)\b",
                r"\b(?:acabamos de|fechamos) (?:captar|levantar|fechar)? ?(?:uma )?(?:rodada"
                r"|investimento)\b",
            ),
        },
    ),
    Rule(
        code="decision_maker",
        weight=1.2,
        label="self-identifies as a decision-maker",
        patterns={
            "en": (
                r"\b(?:as|i'?m|i am) (?:the |a |an )?(?:co-?founder|founder|ceo|cto|cmo|coo|cfo|"
                r"owner|head of|vp|director|managing director|hiring manager)\b",
                r"\bi (?:run|own|lead|manage|head)\b",
            ),
            "de": (
                r"\b(?:als|ich bin) (?:der |die )?(?:grunder|grunderin|geschaftsfuhrer|"
                r"geschaftsfuhrerin|inhaber|inhaberin|leiter|leiterin|ceo|cto)\b",
                r"\bich (?:leite|fuhre) (?:ein|eine|unser|unsere)\b",
            ),
            "fr": (
                r"\b(?:en tant que|je suis) (?:le |la )?(?:fondateur|fondatrice|dirigeant|"
                r"dirigeante|gerant|gerante|directeur|directrice|ceo|cto|responsable|drh|daf|dsi|"
                r"dg|pdg)\b",
                r"\bje dirige (?:une|un|notre)\b",
            ),
            "es": (
                r"\b(?:como|soy) (?:el |la )?(?:fundador|fundadora|director|directora|gerente|"
                r"duen[oa]|ceo|cto|jefe|jefa|responsable)\b",
                r"\b(?:dirijo|tengo) (?:una|un) (?:empresa|startup|agencia|pyme|negocio)\b",
            ),
            "pt": (
                r"\b(?:como|sou) (?:o |a )?(?:fundador|fundadora|diretor|diretora|gerente|"
                r"dono|dona|socio|socia|ceo|cto|head)\b",
                r"\b(?:tenho|toco) (?:uma|um) (?:empresa|startup|agencia|negocio)\b",
            ),
        },
    ),
    Rule(
        code="job_title",
        weight=1.2,
        label="author's bio shows a decision-maker title",
        source="bio",
        patterns={
            "en": (
                r"\b(?:ceo|cto|cmo|coo|cfo|cio|cpo|cro|chief [a-z]+ officer|co-?founder|founder|"
                r"owner|president|head of|vp|vice president|svp|evp|director|managing partner|"
                r"partner at|procurement|purchasing|buyer|hiring manager|general manager)\b",
            ),
            "de": (
                r"\b(?:geschaftsfuhrer(?:in)?|inhaber(?:in)?|grunder(?:in)?|mitgrunder(?:in)?|"
                r"vorstand|leiter(?:in)?|bereichsleiter(?:in)?|einkauf|prokurist(?:in)?)\b",
            ),
            "fr": (
                r"\b(?:fondat(?:eur|rice)|co-?fondat(?:eur|rice)|dirigeant(?:e)?|gerant(?:e)?|"
                r"directeur|directrice|pdg|dg|responsable achats?|acheteur|acheteuse)\b",
            ),
            "es": (
                r"\b(?:fundador(?:a)?|cofundador(?:a)?|director(?:a)?|gerente|jefe de|jefa de|"
                r"socio|socia|compras|duen[oa])\b",
            ),
            "pt": (
                r"\b(?:fundador(?:a)?|cofundador(?:a)?|diretor(?:a)?|gerente|socio|socia|"
                r"compras|dono|dona)\b",
            ),
        },
    ),
    Rule(
        code="company_account",
        weight=0.5,
        label="author name looks like a company",
        source="name",
        patterns={
            "en": (r"\b(?:inc|llc|ltd|limited|corp|co|plc|group|labs|technologies)\.?$",),
            "de": (r"\b(?:gmbh|ag|kg|ug|gbr|e\.v)\.?\b",),
            "fr": (r"\b(?:sarl|sas|sasu|sa)\b",),
            "es": (r"\b(?:s\.?l\.?|s\.?a\.?|sl|sa de cv)\.?$",),
            "pt": (r"\b(?:ltda|s\.?a\.?|me|eireli)\.?$",),
        },
    ),
    # ---- negatives -------------------------------------------------------------------------
    Rule(
        code="praise_only",
        weight=-1.0,
        label="pure praise, no request",
        patterns={
            "en": (
                r"\b(?:great|awesome|amazing|brilliant|fantastic|nice|excellent|insightful|"
                r"solid|fire|killer|good) (?:post|read|thread|piece|take|point|share|insight|"
                r"breakdown|write-?up|stuff|content)\b",
                r"\b(?:love|loved|loving) (?:this|it|that)\b",
                r"\b(?:so true|well said|spot on|nailed it|this is gold|couldn'?t agree more|"
                r"thanks for sharing|thank you for sharing|100%|needed this|great stuff|"
                r"agreed|this\.|facts)\b",
            ),
            "de": (
                r"\b(?:toller|super|starker|guter|klasse|spannender|wichtiger) "
                r"(?:beitrag|post|artikel|punkt|gedanke)\b",
                r"\b(?:danke fur(?:s)? (?:teilen|den beitrag)|sehr gut|genau so|stark|"
                r"volle zustimmung|sehe ich genauso|sehr spannend|absolut richtig)\b",
            ),
            "fr": (
                r"\b(?:super|excellent|tres bon|bon|beau|tres beau|chouette) "
                r"(?:post|article|contenu|partage|billet)\b",
                r"\b(?:merci pour (?:le |ce )?partage|bravo|tres juste|tellement vrai|j'adore|"
                r"entierement d'accord|tout a fait d'accord|top)\b",
            ),
            "es": (
                r"\b(?:gran|buen|excelente|genial) (?:post|articulo|aporte|contenido|hilo)\b",
                r"\b(?:me encanta|me encanto|muy bueno|gracias por compartir|totalmente de acuerdo|"
                r"que buen|que gran|crack|tal cual)\b",
            ),
            "pt": (
                r"\b(?:otimo|excelente|belo|bom|grande) (?:post|artigo|conteudo|texto)\b",
                r"\b(?:adorei|amei|muito bom|parabens|obrigad[oa] por compartilhar|"
                r"concordo plenamente|perfeito|sensacional)\b",
            ),
        },
    ),
    Rule(
        code="curiosity",
        weight=-2.5,
        label="curious about cost, not buying",
        patterns={
            "en": (
                r"\bhow much (?:did|has|have) (?:it|that|this|you|they|the \w+) "
                r"(?:cost|costs|set you back|pay|paid|spend|spent|charge)\b",
                r"\bhow much (?:was|were) (?:it|that|this|the)\b",
                r"\bwhat did (?:it|that|this|you) (?:cost|pay|spend)\b",
                r"\bwhat (?:was|were) (?:the|your) (?:cost|costs|budget|price|bill)\b",
                r"\bhow much (?:do|does) (?:that|this|it) (?:tool|software|stack|setup)\b",
                r"\bjust curious\b",
            ),
            "de": (
                r"\bwas hat (?:das|es|der|die) (?:\w+ )?(?:gekostet|ausgegeben)\b",
                r"\bwie ?viel hat (?:das|es|der|die|ihr|sie) (?:\w+ )?(?:gekostet|bezahlt"
                r"|ausgegeben)\b",
                r"\bwas habt ihr (?:dafur )?(?:bezahlt|ausgegeben)\b",
                r"\breine neugier\b",
            ),
            "fr": (
                r"\bcombien (?:ca|cela|ce) (?:vous )?a coute\b",
                r"\bcombien (?:avez|as)[- ](?:vous|tu) (?:paye|depense)\b",
                r"\bpar curiosite\b",
            ),
            "es": (
                r"\bcuanto (?:te |les |le )?(?:costo|salio|pagaste|pagaron|gastaste|gastaron)\b",
                r"\bpor curiosidad\b",
            ),
            "pt": (
                r"\bquanto (?:te |lhe |voces )?(?:custou|saiu|pagaram|pagou|gastaram|gastou)\b",
                r"\bpor curiosidade\b",
            ),
        },
    ),
    Rule(
        code="negated",
        weight=-3.0,
        label="rules out buying",
        patterns={
            "en": (
                r"\b(?:not|never|no longer) (?:currently |really |actively )?"
                r"(?:looking for|in the market|hiring|interested|buying|shopping)\b",
                r"\b(?:no|zero|without a|don'?t have (?:a|the|any)|zero) (?:budget|money)\b",
                r"\b(?:we|i) (?:don'?t|do not|won'?t) (?:need|want|have budget)\b",
                r"\bno (?:need|thanks|thank you)\b",
                r"\bnot (?:a|any) (?:lead|customer|buyer)\b",
                r"\b(?:could never|can'?t) afford\b",
            ),
            "de": (
                r"\bkein(?:e|en)? (?:budget|bedarf|interesse|geld)\b",
                r"\b(?:nicht|nie) (?:auf der suche|interessiert)\b",
                r"\b(?:brauchen|brauche|suchen|suche) (?:aktuell |derzeit )?(?:keine|keinen|kein|"
                r"nicht)\b",
            ),
            "fr": (
                r"\b(?:pas|aucun) (?:de )?(?:budget|besoin)\b",
                r"\bne (?:cherchons|cherche|recherchons) pas\b",
                r"\bpas interesse(?:e|s)?\b",
                r"\bn'avons pas (?:de )?(?:budget|besoin)\b",
            ),
            "es": (
                r"\b(?:sin|no (?:tenemos|tengo|hay)) (?:presupuesto|dinero|necesidad)\b",
                r"\bno (?:estamos buscando|buscamos|necesitamos|necesito|me interesa|nos "
                r"interesa)\b",
            ),
            "pt": (
                r"\b(?:sem|nao (?:temos|tenho|ha)) (?:orcamento|verba|dinheiro)\b",
                r"\bnao (?:estamos procurando|procuramos|precisamos|preciso|tenho interesse|"
                r"temos interesse)\b",
            ),
        },
    ),
    Rule(
        code="networking",
        weight=-3.0,
        label="networking or event talk, not a request",
        patterns={
            "en": (
                r"\b(?:at|during|after) the (?:next |upcoming )?(?:meetup|conference|event|summit|"
                r"party|dinner|reunion)\b",
                r"\b(?:grow|growing|expand|expanding|build|building) (?:my|our) network\b",
                r"\b(?:networking|alumni)\b",
            ),
            "de": (
                r"\b(?:beim|auf dem|im|zum) (?:nachsten )?(?:meetup|treffen|event|konferenz"
                r"|stammtisch)\b",
                r"\b(?:alumni|netzwerk erweitern)\b",
            ),
            "fr": (
                r"\b(?:au|a la|lors du|lors de la) (?:prochain |prochaine )?(?:meetup|conference|"
                r"evenement|salon|afterwork)\b",
                r"\b(?:elargir mon reseau|networking|anciens eleves)\b",
            ),
            "es": (
                r"\b(?:en el|en la) (?:proximo |proxima )?(?:meetup|evento|conferencia|congreso)\b",
                r"\b(?:ampliar mi red|networking)\b",
            ),
            "pt": (
                r"\b(?:no|na) (?:proximo |proxima )?(?:meetup|evento|conferencia|congresso)\b",
                r"\b(?:ampliar minha rede|networking)\b",
            ),
        },
    ),
    Rule(
        code="peer_question",
        weight=-2.5,
        label="shares the problem or asks other readers, not the author",
        patterns={
            "en": (
                r"\b(?:does|do) anyone\b|\banyone (?:know|have|got|tried)\b|\bhas anyone\b",
                r"\b(?:i|we) (?:also|too) (?:need|struggle)\b|\b(?:with|on) (?:this|that|it) too\b",
                r"\bsame (?:problem|issue|boat) here\b",
            ),
            "de": (
                r"\b(?:hat|weiss|kennt) (?:hier )?jemand\b",
                r"\b(?:ich|wir) (?:brauche|brauchen|habe|haben) auch\b",
            ),
            "fr": (
                r"\bquelqu'un (?:a|sait|connait|aurait)\b",
                r"\bmoi aussi\b|\bnous aussi\b",
            ),
            "es": (
                r"\balguien (?:sabe|tiene|conoce)\b",
                r"\b(?:yo tambien|tambien necesito|tambien necesitamos)\b",
            ),
            "pt": (
                r"\balguem (?:sabe|tem|conhece)\b",
                r"\b(?:eu tambem|tambem preciso|tambem precisamos)\b",
            ),
        },
    ),
    Rule(
        code="vendor_pitch",
        weight=-4.5,
        label="pitches their own services",
        patterns={
            "en": (
                r"\b(?:we|i) (?:offer|provide|deliver|specialize in|specialise in) "
                r"(?:affordable |cheap |professional |top |premium |custom |expert )?"
                r"(?:seo|smm|marketing|web|website|app|development|design|lead gen|leads|"
                r"services|solutions|outsourc|virtual assist|ghostwrit|content|growth|ads)",
                r"\b(?:i|we) can help (?:you|your|u) (?:grow|scale|get|generate|increase|boost|"
                r"rank|double|triple|reach|automate|build|with)\b",
                r"\b(?:i|we) help (?:brands|companies|businesses|founders|coaches|agencies|"
                r"creators|startups|b2b|saas|people like you|you)\b",
                r"\b(?:our|my) (?:agency|team) (?:can|could|will) (?:help|build|handle|do|take)\b",
                r"\b(?:free (?:audit|consultation|strategy call|trial of our)|"
                r"book a free|grow your (?:business|followers|brand|page|audience|revenue))\b",
                r"\b(?:get|generate|drive) (?:more |\d+\+? )?(?:qualified )?"
                r"(?:leads|clients|followers|sales|traffic) (?:for you|for your|in \d+)\b",
                r"\b(?:check|see) (?:our|my) (?:services|portfolio|offer|rates)\b",
                r"\bi(?:'m| am) a (?:freelance|freelancer|professional|certified|expert) "
                r"(?:\w+ )?(?:designer|developer|writer|marketer|editor|va|assistant|seo)\b",
            ),
            "de": (
                r"\b(?:wir|ich) (?:bieten|biete) (?:ihnen |dir |euch )?(?:professionelle "
                r"|gunstige )?"
                r"(?:seo|marketing|webdesign|dienstleistungen|leistungen|losungen|unterstutzung)\b",
                r"\b(?:ich|wir) (?:helfe|helfen) (?:ihnen|dir|euch|unternehmen|firmen|coaches)\b",
                r"\b(?:unsere|meine) agentur (?:kann|hilft|ubernimmt)\b",
                r"\bkostenlose(?:s|n)? (?:erstgesprach|analyse|audit|beratung)\b",
            ),
            "fr": (
                r"\b(?:nous proposons|nous offrons|je propose|je vous propose) "
                r"(?:mes |nos |des |un |une )?(?:services|prestations|solutions|seo|"
                r"accompagnement|audit)",
                r"\b(?:je peux|nous pouvons) vous aider a\b",
                r"\bj'aide (?:les )?(?:entreprises|marques|coachs|startups|independants)\b",
                r"\b(?:audit|diagnostic) gratuit\b",
            ),
            "es": (
                r"\b(?:ofrecemos|ofrezco) (?:servicios|soluciones|seo|marketing|desarrollo|"
                r"diseno|asesoria)\b",
                r"\b(?:te|le|les) (?:puedo|podemos) ayudar a\b",
                r"\b(?:puedo|podemos) ayudarte a\b",
                r"\bayudo a (?:empresas|marcas|coaches|emprendedores)\b",
                r"\b(?:auditoria|consulta) gratis\b",
            ),
            "pt": (
                r"\b(?:oferecemos|ofereco) (?:servicos|solucoes|seo|marketing|desenvolvimento|"
                r"design|consultoria)\b",
                r"\b(?:posso|podemos) (?:te |lhe )?ajudar (?:voce |vc )?a\b",
                r"\bajudo (?:empresas|marcas|coaches|empreendedores)\b",
                r"\b(?:auditoria|consultoria|analise) gratuita\b",
            ),
        },
    ),
    Rule(
        code="job_seeker",
        weight=-5.0,
        label="looks like a job seeker",
        patterns={
            "en": (
                r"\bare (?:you|u|y'?all|you guys) (?:currently |still )?hiring\b",
                r"\b(?:any|do you have (?:any )?) ?(?:job )?(?:openings|vacancies|open roles|"
                r"open positions|internships?|positions)\b",
                r"\b(?:looking for|seeking|searching for) (?:a |an |my (?:first|next) )?"
                r"(?:new )?(?:job|role|position|internship|employment|work opportunit)",
                r"\b(?:open to work|opentowork|job hunting|job search|between jobs|laid off)\b",
                r"\bmy (?:cv|resume|resum)\b",
                r"\b(?:recent (?:grad|graduate)|fresh graduate|entry[- ]level|junior role)\b",
                r"\bhow (?:can|do) i (?:apply|join your team)\b",
                r"\b(?:refer me|referral for (?:a|the|an) (?:role|job|position|opening))\b",
            ),
            "de": (
                r"\b(?:stellen sie|stellt ihr|sucht ihr) (?:gerade |aktuell )?"
                r"(?:ein|mitarbeiter|leute|verstarkung)\b",
                r"\b(?:suche|suchen) (?:eine |einen |nach einer )?(?:neue |neuen )?"
                r"(?:job|stelle|arbeit|praktikum|werkstudentenstelle|ausbildung)\b",
                r"\b(?:offene stellen|bewerbung|lebenslauf|jobsuche|auf jobsuche)\b",
            ),
            "fr": (
                r"\b(?:recrutez[- ]vous|vous recrutez|embauchez[- ]vous)\b",
                r"\b(?:cherche|recherche) (?:un |une |du )?(?:emploi|travail|stage|poste|"
                r"alternance|job)\b",
                r"\b(?:mon cv|candidature|en recherche d'emploi|postes? ouverts?)\b",
            ),
            "es": (
                r"\b(?:estan contratando|buscan personal|tienen vacantes)\b",
                r"\b(?:busco|buscando) (?:un |una )?(?:trabajo|empleo|practicas|pasantia|puesto)\b",
                r"\b(?:mi cv|mi curriculum|vacantes?)\b",
            ),
            "pt": (
                r"\b(?:estao contratando|tem vagas?|abrindo vagas)\b",
                r"\b(?:procuro|procurando|busco|buscando) (?:um |uma )?(?:emprego|trabalho|"
                r"estagio|vaga|recolocacao)\b",
                r"\b(?:meu curriculo|meu cv|vagas? abertas?)\b",
            ),
        },
    ),
    Rule(
        code="spam",
        weight=-6.0,
        label="looks like spam or self-promotion",
        patterns={
            "en": (
                r"\b(?:check out my|check my (?:profile|page|bio|channel)|follow me|"
                r"follow (?:back|for follow)|f4f|sub4sub|link in (?:my )?bio|click (?:the |my "
                r")?link|"
                r"visit my (?:page|profile|site))\b",
                r"\b(?:crypto|bitcoin|btc|nft|forex|airdrop|giveaway|usdt|binance|"
                r"passive income|make \$?\d+k?|earn \$?\d+|onlyfans|dm for promo)\b",
                r"\bwhats ?app (?:me )?\+?\d",
            ),
            "de": (
                r"\b(?:folg mir|folgt mir|schau(?:t)? (?:auf )?mein(?:en)? (?:profil|kanal))\b",
            ),
            "fr": (r"\b(?:suivez[- ]moi|abonnez[- ]vous|allez voir mon (?:profil|compte))\b",),
            "es": (r"\b(?:siguenme|sigueme|visita mi perfil|mira mi perfil)\b",),
            "pt": (r"\b(?:me segue|me sigam|sigam meu|visita meu perfil|confere meu perfil)\b",),
        },
    ),
    Rule(
        code="bio_job_seeker",
        weight=-1.5,
        label="author's bio says they are looking for work",
        source="bio",
        patterns={
            "en": (
                r"\b(?:open to work|opentowork|seeking|looking for (?:new )?(?:opportunities|a "
                r"role)|"
                r"job seeker|student|aspiring|graduate|intern)\b",
            ),
            "de": (r"\b(?:auf jobsuche|suche neue herausforderung|student(?:in)?|werkstudent)\b",),
            "fr": (r"\b(?:en recherche d'emploi|etudiant(?:e)?|a l'ecoute du marche)\b",),
            "es": (r"\b(?:en busqueda (?:laboral|activa)|estudiante|buscando empleo)\b",),
            "pt": (r"\b(?:em busca de (?:recolocacao|oportunidade)|estudante|estagiari[oa])\b",),
        },
    ),
    Rule(
        code="bio_vendor",
        weight=-0.8,
        label="author's bio sells marketing or lead-gen services",
        source="bio",
        patterns={
            "en": (
                r"\b(?:i help|we help|lead gen|lead generation|growth hacker|seo expert|"
                r"smm|dm for|ghostwriter|virtual assistant|freelancer|agency owner)\b",
            ),
            "de": (r"\b(?:ich helfe|wir helfen|seo-?experte|leadgenerierung)\b",),
            "fr": (r"\b(?:j'aide|nous aidons|expert seo|generation de leads)\b",),
            "es": (r"\b(?:ayudo a|ayudamos a|experto en seo|generacion de leads)\b",),
            "pt": (r"\b(?:ajudo|ajudamos|especialista em seo|geracao de leads)\b",),
        },
    ),
)
