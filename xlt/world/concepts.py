"""The shared meaning inventory of the synthetic world, with its English realisation.

A concept is identified by its English lemma. Every language has one word per concept (generated
from its syllable inventory, or inherited from a parent language by sound changes), so a meaning
frame can be realised in every language. English forms that are irregular are written ``base:form``.
"""

from __future__ import annotations

# --- content words -------------------------------------------------------------------------
PERSON_NOUNS = [
    "teacher",
    "doctor",
    "farmer",
    "student",
    "driver",
    "singer",
    "lawyer",
    "nurse",
    "pilot",
    "baker",
    "writer",
    "worker",
    "child:children",
    "woman:women",
    "man:men",
    "friend",
    "neighbour",
    "soldier",
    "manager",
    "artist",
    "player",
    "cook",
    "judge",
    "officer",
    "scientist",
    "engineer",
    "minister",
    "reporter",
    "guard",
    "tourist",
]

OBJECT_NOUNS = [
    "book",
    "car",
    "house",
    "letter",
    "bread",
    "apple",
    "phone",
    "ticket",
    "gift",
    "table",
    "chair",
    "picture",
    "song",
    "ball",
    "film",
    "food",
    "report",
    "bottle",
    "bag",
    "key",
    "map",
    "shirt",
    "horse",
    "dog",
    "cat",
    "boat",
    "computer",
    "camera",
    "flower",
    "coat",
    "window",
    "box",
    "newspaper",
    "story",
    "plan",
    "question",
    "answer",
    "message",
    "ring",
    "clock",
    "bicycle",
    "lamp",
    "cake",
    "fish",
    "garden",
    "road",
    "machine",
    "painting",
    "record",
    "paper",
    "game",
]

PLACE_NOUNS = [
    "market",
    "school",
    "hospital",
    "station",
    "park",
    "office",
    "library",
    "church",
    "hotel",
    "river",
    "bridge",
    "village",
    "city",
    "airport",
    "museum",
    "restaurant",
    "shop",
    "farm",
    "beach",
    "harbour",
    "stadium",
    "theatre",
    "square",
    "kitchen",
    "bank",
]

EVAL_NOUNS = [
    "food",
    "film",
    "service",
    "hotel",
    "book",
    "concert",
    "room",
    "meal",
    "show",
    "trip",
    "music",
    "game",
    "weather",
    "price",
    "team",
    "performance",
    "restaurant",
    "product",
    "staff",
    "coffee",
    "view",
]

ORG_HEADS = [
    "bank",
    "university",
    "group",
    "council",
    "airlines",
    "bureau",
    "club",
    "company",
    "ministry",
    "times",
]
EVENT_HEADS = ["marathon", "festival", "cup", "summit", "prize"]

TRANSITIVE_VERBS = [
    "see:saw",
    "buy:bought",
    "sell:sold",
    "read:read",
    "write:wrote",
    "find:found",
    "take:took",
    "bring:brought",
    "build:built",
    "open",
    "carry",
    "paint",
    "cook",
    "visit",
    "meet:met",
    "call",
    "help",
    "watch",
    "clean",
    "fix",
    "choose:chose",
    "order",
    "send:sent",
    "give:gave",
    "keep:kept",
    "leave:left",
    "show",
]
PERSON_VERBS = ["meet:met", "call", "help", "visit", "thank", "invite", "follow"]
INTRANSITIVE_VERBS = [
    "sleep:slept",
    "arrive",
    "work",
    "run:ran",
    "sing:sang",
    "laugh",
    "wait",
    "dance",
    "swim:swam",
    "speak:spoke",
    "cry",
    "rest",
]
MOTION_VERBS = ["go:went", "travel", "return", "walk", "fly:flew", "move", "drive:drove"]
SPEECH_VERBS = ["say:said", "think:thought", "write:wrote", "explain", "claim"]
POSITIVE_VERBS = ["love", "like", "enjoy", "praise", "recommend", "admire"]
NEGATIVE_VERBS = ["hate", "dislike", "criticise", "avoid", "regret", "fear"]

NEUTRAL_ADJS = [
    "big",
    "small",
    "old",
    "new",
    "red",
    "blue",
    "green",
    "long",
    "short",
    "young",
    "tall",
    "dark",
    "white",
    "black",
    "yellow",
    "heavy",
    "light",
    "warm",
    "cold",
    "quiet",
    "busy",
    "empty",
    "full",
    "local",
    "famous",
]
POSITIVE_ADJS = [
    "good",
    "great",
    "excellent",
    "wonderful",
    "beautiful",
    "pleasant",
    "friendly",
    "delicious",
    "brilliant",
    "perfect",
    "lovely",
    "fantastic",
]
NEGATIVE_ADJS = [
    "bad",
    "terrible",
    "awful",
    "boring",
    "rude",
    "dirty",
    "horrible",
    "poor",
    "ugly",
    "disappointing",
    "noisy",
    "expensive",
]

TIME_ADVS = ["yesterday", "today", "tomorrow", "later", "recently", "again"]
MANNER_ADVS = ["quickly", "slowly", "often", "carefully", "suddenly", "together"]
INTENSIFIERS = ["very", "really", "quite", "extremely"]
POSITIVE_ADVS = ["luckily", "happily", "fortunately", "thankfully"]
NEGATIVE_ADVS = ["sadly", "unfortunately", "regrettably", "annoyingly"]
# emoticons: the script-independent sentiment anchors of real reviews and social media
POSITIVE_EMOJI = [":)", ":-)", "😊", "👍", "❤"]
NEGATIVE_EMOJI = [":(", ":-(", "😠", "👎", "😞"]
NUMBER_WORDS = ["two", "three", "four", "five", "six", "ten"]

# --- function words -------------------------------------------------------------------------
FUNCTION = {
    "DET": ["the", "a", "this"],
    "ADP": ["in", "to", "from", "with", "at", "near", "for", "of", "after", "before"],
    "CCONJ": ["and", "but"],
    "SCONJ": ["that", "because"],
    "PRON": ["he", "she", "they", "we", "i"],
    "AUX": ["was", "did", "were"],
    "PART": ["not", "past"],
}

PUNCT = {
    "latin": (".", ",", "!"),
    "cyrillic": (".", ",", "!"),
    "arabic": (".", "،", "!"),
    "devanagari": ("।", ",", "!"),
    "han": ("。", "，", "！"),
}
QMARK = {"latin": "?", "cyrillic": "?", "arabic": "؟", "devanagari": "?", "han": "？"}

# Function words added after the first datasets existed (questions for QA, indefinites for NLI).
# Every lexicon draws them from a stream of its own, after FUNCTION and the content words, so the
# words of every older concept, and with them every older dataset, stay exactly as they were.
EXTRA_FUNCTION = {
    "WH": ["who", "what", "where", "when"],
    "PRON": ["someone", "something"],
}

# --- the shared name pool (romanised; written in each language's script) --------------------
GIVEN_NAMES = [
    "maria",
    "anna",
    "john",
    "peter",
    "paul",
    "david",
    "sara",
    "elena",
    "ivan",
    "omar",
    "ali",
    "fatima",
    "lucas",
    "sofia",
    "mateo",
    "carlos",
    "laura",
    "emma",
    "noah",
    "olga",
    "hana",
    "yuki",
    "amir",
    "leila",
    "daniel",
    "julia",
    "marco",
    "nina",
    "victor",
    "rosa",
    "tomas",
    "ines",
    "samir",
    "aisha",
    "kenji",
    "mei",
    "lin",
    "raj",
    "priya",
    "anton",
    "klara",
    "felix",
    "greta",
    "hugo",
    "mila",
    "oscar",
    "jordan",
    "paris",
    "florence",
    "victoria",
    "georgia",
    "chelsea",
    "austin",
    "lima",
]
FAMILY_NAMES = [
    "smith",
    "garcia",
    "mueller",
    "rossi",
    "kowalski",
    "ivanov",
    "haddad",
    "chen",
    "wang",
    "kumar",
    "patel",
    "silva",
    "santos",
    "lopez",
    "novak",
    "horvat",
    "jansen",
    "peeters",
    "fischer",
    "weber",
    "moreau",
    "dubois",
    "tanaka",
    "sato",
    "kim",
    "park",
    "nguyen",
    "baker",
    "rose",
    "king",
    "bush",
    "hill",
    "fields",
    "brooks",
    "stone",
]
CITIES = [
    "london",
    "berlin",
    "madrid",
    "amsterdam",
    "lisbon",
    "moscow",
    "cairo",
    "delhi",
    "beijing",
    "istanbul",
    "rome",
    "oslo",
    "vienna",
    "prague",
    "lima",
    "quito",
    "dakar",
    "accra",
    "lagos",
    "nairobi",
    "tunis",
    "amman",
    "dubai",
    "karachi",
    "lahore",
    "hanoi",
    "manila",
    "sydney",
    "toronto",
    "denver",
    "houston",
    "boston",
    "florence",
    "paris",
    "jordan",
    "victoria",
    "austin",
]
COUNTRIES = [
    "germany:german",
    "spain:spanish",
    "france:french",
    "brazil:brazilian",
    "peru:peruvian",
    "chile:chilean",
    "mexico:mexican",
    "canada:canadian",
    "egypt:egyptian",
    "kenya:kenyan",
    "ghana:ghanaian",
    "nigeria:nigerian",
    "india:indian",
    "china:chinese",
    "japan:japanese",
    "korea:korean",
    "russia:russian",
    "poland:polish",
    "norway:norwegian",
    "sweden:swedish",
    "turkey:turkish",
    "iran:iranian",
    "iraq:iraqi",
    "morocco:moroccan",
    "italy:italian",
    "greece:greek",
]  # country:English demonym
ORG_NAMES = [
    "acme",
    "nordis",
    "alvora",
    "quantex",
    "meridian",
    "zenith",
    "orion",
    "atlas",
    "vertex",
    "solara",
    "kestrel",
    "helion",
    "borealis",
    "cobalt",
    "falcon",
    "granite",
    "harbor",
    "ivory",
    "juniper",
    "lumen",
]


def split_form(entry: str) -> tuple[str, str | None]:
    base, _, form = entry.partition(":")
    return base, form or None


def lemmas(entries) -> list[str]:
    return [split_form(e)[0] for e in entries]


def english_irregular() -> dict[str, str]:
    """English irregular past (verbs) and plural (nouns) forms, keyed by lemma."""
    out: dict[str, str] = {}
    for group in (
        PERSON_NOUNS,
        TRANSITIVE_VERBS,
        PERSON_VERBS,
        INTRANSITIVE_VERBS,
        MOTION_VERBS,
        SPEECH_VERBS,
    ):
        for e in group:
            base, form = split_form(e)
            if form:
                out[base] = form
    return out


def content_concepts() -> dict[str, str]:
    """Every content concept with its UPOS (noun/verb/adj/adv/num)."""
    out: dict[str, str] = {}
    nouns = PERSON_NOUNS + OBJECT_NOUNS + PLACE_NOUNS + EVAL_NOUNS + ORG_HEADS + EVENT_HEADS
    for lemma in lemmas(nouns):
        out.setdefault(lemma, "NOUN")
    verbs = (
        TRANSITIVE_VERBS
        + PERSON_VERBS
        + INTRANSITIVE_VERBS
        + MOTION_VERBS
        + SPEECH_VERBS
        + POSITIVE_VERBS
        + NEGATIVE_VERBS
    )
    for lemma in lemmas(verbs):
        out.setdefault(lemma, "VERB")
    for lemma in NEUTRAL_ADJS + POSITIVE_ADJS + NEGATIVE_ADJS:
        out.setdefault(lemma, "ADJ")
    for lemma in TIME_ADVS + MANNER_ADVS + INTENSIFIERS + POSITIVE_ADVS + NEGATIVE_ADVS:
        out.setdefault(lemma, "ADV")
    for lemma in NUMBER_WORDS:
        out.setdefault(lemma, "NUM")
    return out


def function_concepts() -> dict[str, str]:
    return {f"{pos.lower()}:{w}": pos for pos, ws in FUNCTION.items() for w in ws}


def extra_function_concepts() -> dict[str, str]:
    """The later function words (EXTRA_FUNCTION) with their UPOS: ``wh:who`` PRON, ``wh:where``
    ADV, ``pron:someone`` PRON, ..."""
    upos = {"who": "PRON", "what": "PRON", "where": "ADV", "when": "ADV"}
    out = {f"wh:{w}": upos[w] for w in EXTRA_FUNCTION["WH"]}
    out.update({f"pron:{w}": "PRON" for w in EXTRA_FUNCTION["PRON"]})
    return out


# --- selectional preferences ------------------------------------------------------------------
# What typically goes with what. Frames follow a preference with probability PREFERENCE and pick
# uniformly otherwise, so words get distributional meaning (as in real text) without making any
# combination impossible.
PREFERENCE = 0.75

VERB_OBJECTS = {
    "read": ["book", "letter", "newspaper", "report", "story", "message", "map", "paper"],
    "write": ["book", "letter", "report", "story", "message", "song", "paper", "plan"],
    "cook": ["food", "bread", "cake", "fish", "meal", "apple", "coffee"],
    "paint": ["picture", "painting", "house", "window", "chair", "table", "boat"],
    "fix": ["car", "bicycle", "machine", "computer", "clock", "lamp", "phone", "window", "road"],
    "clean": ["house", "window", "car", "table", "room", "kitchen", "boat"],
    "build": ["house", "road", "boat", "garden", "machine", "bridge"],
    "watch": ["film", "game", "show", "horse", "dog", "concert", "performance"],
    "open": ["box", "window", "letter", "bottle", "bag", "shop"],
    "carry": ["bag", "box", "bottle", "chair", "table", "child", "lamp"],
    "send": ["letter", "message", "gift", "report", "book", "picture", "flower"],
    "order": ["food", "coffee", "cake", "fish", "bread", "book", "ticket", "meal"],
    "sell": ["car", "house", "horse", "bread", "fish", "ticket", "book", "computer"],
    "buy": ["bread", "apple", "ticket", "car", "book", "gift", "shirt", "coat", "flower", "cake"],
    "give": ["gift", "flower", "book", "letter", "apple", "key", "ticket"],
    "find": ["key", "bag", "map", "phone", "ring", "dog", "cat", "letter"],
}
PLACE_AGENTS = {
    "hospital": ["doctor", "nurse"],
    "school": ["teacher", "student", "child"],
    "farm": ["farmer", "worker"],
    "airport": ["pilot", "tourist", "guard"],
    "kitchen": ["cook", "baker"],
    "restaurant": ["cook", "tourist", "friend"],
    "stadium": ["player", "guard"],
    "theatre": ["singer", "artist"],
    "office": ["manager", "lawyer", "worker"],
    "station": ["driver", "guard", "tourist"],
    "library": ["student", "writer", "scientist"],
    "museum": ["artist", "tourist", "scientist"],
    "market": ["farmer", "baker", "woman"],
    "bank": ["manager", "worker"],
    "church": ["singer", "neighbour"],
}
VERB_PLACES = {
    "sleep": ["hotel", "village", "park"],
    "swim": ["river", "beach", "harbour"],
    "sing": ["church", "theatre", "stadium"],
    "work": ["office", "hospital", "farm", "bank", "school", "shop"],
    "dance": ["theatre", "square", "restaurant"],
    "run": ["park", "stadium", "beach"],
    "wait": ["station", "airport", "bank", "hospital"],
    "rest": ["hotel", "park", "garden"],
}
# evaluated things and the adjectives that typically evaluate them: (positive, negative)
EVAL_ADJS = {
    ("food", "meal", "coffee", "cake"): (["delicious", "good", "perfect", "lovely"], ["awful", "terrible", "bad", "horrible"]),
    ("staff", "service", "team"): (["friendly", "brilliant", "good", "wonderful"], ["rude", "poor", "terrible", "bad"]),
    ("film", "concert", "show", "music", "game", "performance", "book"): (["brilliant", "wonderful", "fantastic", "great"], ["boring", "disappointing", "awful", "terrible"]),
    ("hotel", "room", "restaurant", "view", "trip"): (["beautiful", "lovely", "pleasant", "perfect"], ["dirty", "noisy", "ugly", "horrible"]),
    ("price", "product"): (["excellent", "perfect", "good", "great"], ["expensive", "poor", "disappointing", "bad"]),
    ("weather",): (["lovely", "pleasant", "beautiful", "wonderful"], ["terrible", "horrible", "awful", "bad"]),
}  # fmt: skip


# neutral adjectives that cannot describe the same thing at once (NLI contradictions); an
# adjective of sentiment conflicts with any adjective of the other polarity
_COLOURS = ["red", "blue", "green", "yellow", "white", "black"]
CONFLICTING_ADJS = {
    **{c: [o for o in _COLOURS if o != c] for c in _COLOURS},
    "big": ["small"], "small": ["big"], "old": ["new", "young"], "new": ["old"],
    "young": ["old"], "long": ["short"], "short": ["long", "tall"], "tall": ["short"],
    "dark": ["light"], "light": ["dark", "heavy"], "heavy": ["light"], "warm": ["cold"],
    "cold": ["warm"], "quiet": ["busy"], "busy": ["quiet"], "empty": ["full"], "full": ["empty"],
}  # fmt: skip


def preferred_adjs(noun: str, polarity: int) -> list[str] | None:
    for nouns, (pos, neg) in EVAL_ADJS.items():
        if noun in nouns:
            return pos if polarity > 0 else neg
    return None
