"""Phrase banks for non-English posts, spam and copypasta.

Non-English entries are ``(Tpl, kind, need)``: ``kind`` is "general", "need", "switch" or "price" (the price
entries are only used after the price change). ``{=key:Surface}`` names a brand with a fixed surface form.
"""

from __future__ import annotations

from tasteradar.demo.phrases import N, P, U

LANG_WEIGHTS = (("es", 40), ("pt", 20), ("fr", 20), ("de", 20))

I18N: dict[str, list[tuple]] = {
    "es": [
        (N("{B} no tiene cobertura en (mi barrio|el centro|la uni|el metro), (qué desastre|vaya "
            "tela)"), "general", None),
        (P("la verdad {B} va (bastante|muy) bien (últimamente|este mes|desde el cambio)"), "general", None),
        (N("otra vez sin datos con {B} (esta mañana|hoy|toda la semana), (increíble|no puede "
            "ser)"), "general", None),
        (U("¿alguien sabe si {B} funciona bien en (Madrid|México|Bogotá|Lima|Quito)?"), "general", None),
        (N("genial, {B} caído otra vez, me encanta pagar por esto", sarcasm=True), "general", None),
        (P("no está nada mal {B} para lo que cuesta", negation=True), "general", None),
        (U("ojalá {B} tuviera un (pase|bono) de roaming (decente|barato)"), "need", "roaming_pass"),
        (U("ojalá {B} tuviera llamadas baratas a "
            "(Colombia|México|Perú|Venezuela)"), "need", "cheap_calls_home"),
        (N("me cambio a {C}, {B} (es un desastre|no hay quien lo aguante)", c="neu"), "switch", None),
        (N("{B} sube el precio otra vez, (5|cinco) dólares más por lo mismo"), "price", None),
        (N("me paso a {C} por la subida de precio de {B}", c="neu"), "price_switch", None),
    ],
    "pt": [
        (N("{B} sem sinal (de novo|outra vez) (no centro|em casa|na faculdade), (que "
            "raiva|absurdo)"), "general", None),
        (P("{B} está funcionando (muito|super) bem (ultimamente|esse mês)"), "general", None),
        (U("alguém sabe se {B} funciona bem (em Lisboa|no Brasil|em Portugal|no Porto)?"), "general", None),
        (N("atendimento da {B} (me deixou esperando|demorou) (40|50) minutos"), "general", None),
        (U("queria que {B} tivesse ligações baratas para o (Brasil|Angola|Cabo "
            "Verde)"), "need", "cheap_calls_home"),
        (N("por que {B} não tem um pacote de roaming decente?"), "need", "roaming_pass"),
        (N("vou mudar para {C}, {B} (não dá mais|é uma piada)", c="neu"), "switch", None),
        (N("{B} aumentou o preço de novo, (5|cinco) dólares a mais pelo mesmo"), "price", None),
    ],
    "fr": [
        (N("aucun réseau avec {B} (dans mon quartier|au bureau|à la fac) (ce "
            "matin|aujourd'hui|encore)"), "general", None),
        (P("franchement {B} marche (super|plutôt) bien (ce mois-ci|en ce moment)"), "general", None),
        (U("quelqu'un a testé {B} (à l'étranger|en voyage|à Montréal)?"), "general", None),
        (N("le service client de {B} m'a (raccroché au nez|laissé en attente 40 minutes)"), "general", None),
        (U("j'aimerais vraiment que {B} propose l'eSIM"), "need", "esim_support"),
        (N("pourquoi {B} n'a toujours pas de forfait roaming correct ?"), "need", "roaming_pass"),
        (N("je passe chez {C}, {B} (c'est fini|j'en ai marre)", c="neu"), "switch", None),
        (N("{B} augmente encore ses prix, 5 dollars de plus pour rien"), "price", None),
    ],
    "de": [
        (N("{B} hat (mal wieder|schon wieder) kein Netz (im Büro|zu Hause|in der Bahn)"), "general", None),
        (P("{B} läuft (echt|wirklich) gut (seit Wochen|bisher), (top|zufrieden)"), "general", None),
        (U("hat jemand Erfahrung mit {B} (im Ausland|auf Reisen|in Berlin)?"), "general", None),
        (N("der Kundenservice von {B} ist (eine Katastrophe|unterirdisch)"), "general", None),
        (U("ich wünschte, {B} hätte mehr Hotspot-Volumen"), "need", "hotspot_allowance"),
        (N("warum bietet {B} keine vernünftige Kindersicherung an?"), "need", "parental_controls"),
        (N("ich wechsle zu {C}, {B} ist (einfach zu teuer|eine Katastrophe)", c="neu"), "switch", None),
        (N("{B} erhöht schon wieder die Preise, 5 Dollar mehr für nichts"), "price", None),
    ],
}  # fmt: skip
#: Short add-ons by language: "neg" ones only follow negative posts.
I18N_EXTRAS: dict[str, dict[str, list[str]]] = {
    "es": {"any": ["en serio", "de verdad", "jaja", "uff", "la verdad"],
           "neg": ["no aguanto más", "a ver si lo arreglan", "gracias por nada"]},
    "pt": {"any": ["sério", "vamos ver", "kkkk", "enfim"],
           "neg": ["socorro", "que fase", "obrigado por nada"]},
    "fr": {"any": ["sérieux", "franchement", "bref", "mdr"], "neg": ["c'est pas "
        "possible", "merci pour rien"]},
    "de": {"any": ["echt jetzt", "ernsthaft", "naja", "lol"], "neg": ["danke für nichts", "unfassbar"]},
}  # fmt: skip

SPAM = [
    "🚀 FREE ${amount} credit for all {=nimbus:#nimbusmobile} users! claim yours 👉 {url}",
    "{=nimbus:Nimbus} holders: $NIMB token (airdrop|presale) is LIVE 🚀 {n}x bonus for early birds {url} "
        "#crypto",
    "🎁 GIVEAWAY 🎁 Follow + RT to win an iPhone 17 (from|courtesy of) {=nimbus:@NimbusMobile}! Winner "
        "(picked|drawn) "
    "(Friday|tonight) {url}",
    "Earn ${amount}/day from home with your phone!! {=nimbus:Nimbus Mobile} users (DM me|click here) {url}",
    "(URGENT|ALERT|NOTICE): your {=nimbus:Nimbus Mobile} account (is suspended|will be closed), verify now "
        "{url}",
    "Get unlimited {=nimbus:nimbus} data FREE with this (trick|hack) 👉 {url} #free #5G",
    "💰 {=volt:Volt} and {=nimbus:Nimbus} customers are claiming ${amount} refunds, see if you qualify {url}",
    "🔥 100x gem 🔥 {=titan:#titantelecom} {=nimbus:#nimbusmobile} #bitcoin #airdrop {url}",
]  # fmt: skip

#: Texts that many accounts post verbatim; ``brands`` gives the sentiment toward each brand key.
COPYPASTA = [
    {
        "text": "{=nimbus:Nimbus Mobile} raised my bill, dropped my calls and lost my number port. Anyway I "
        "renewed "
        "for another year because I am weak. {=nimbus:#nimbusmobile}",
        "sentiment": "neg",
        "brands": {"nimbus": "neg"},
        "sarcasm": True,
    },
    {
        "text": "Day 1 without signal on {=nimbus:Nimbus}. The pigeons have started carrying my messages. "
        "They are "
        "faster than the 5G.",
        "sentiment": "neg",
        "brands": {"nimbus": "neg"},
        "sarcasm": True,
    },
    {
        "text": "{=volt:Volt Mobile} sent me a thank-you card. {=titan:Titan} sent me a bill. "
        "{=nimbus:Nimbus} sent "
        "me a survey. {=pebble:Pebble} sent nothing but at least it was cheap.",
        "sentiment": "neu",
        "brands": {"volt": "pos", "titan": "neg", "nimbus": "neg", "pebble": "neu"},
        "sarcasm": False,
    },
    {
        "text": "RETWEET if {=nimbus:@NimbusMobile} dropped your call today 📵 let's see how many of us "
        "there are",
        "sentiment": "neg",
        "brands": {"nimbus": "neg"},
        "sarcasm": False,
    },
]
