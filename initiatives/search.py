"""Text folding for the SQLite search fallback.

PostgreSQL searches with its `french_unaccent` configuration (migration 0004).
SQLite has neither unaccent nor a French stemmer, so the fallback folds text the
same way in Python (lower case, no accents, punctuation as spaces) and matches the
Snowball French stem of each query word, the algorithm PostgreSQL's `french_stem`
uses, at the start of a word.
"""

import re
import unicodedata

import snowballstemmer

# The words PostgreSQL's French configuration ignores (its french.stop list),
# folded; the fallback ignores the same ones.
STOP_WORDS = frozenset(
    """
    a ai aie aient aies ait as au aura aurai auraient aurais aurait auras aurez
    auriez aurions aurons auront aux avaient avais avait avec avez aviez avions
    avons ayant ayez ayons c ce ceci cela celle celles celui ces cet cette d dans de
    des du elle en es est et etaient etais etait etant ete etee etees etes etiez
    etions eu eue eues eumes eurent eus eusse eussent eusses eussiez eussions eut
    eutes eux fumes furent fus fusse fussent fusses fussiez fussions fut futes ici
    il ils j je l la le les leur leurs lui m ma mais me meme mes moi mon n ne nos
    notre nous on ont ou par pas pour qu que quel quelle quelles quels qui s sa sans
    se sera serai seraient serais serait seras serez seriez serions serons seront
    ses soi soient sois soit sommes son sont soyez soyons suis sur t ta te tes toi
    ton tu un une vos votre vous y
    """.split()
)
MAX_TERMS = 10

_stemmer = snowballstemmer.stemmer("french")
_not_word = re.compile(r"[^0-9a-z]+")


def fold(text: str | None) -> str:
    """Lower-case, strip accents, turn every non-alphanumeric run into one space,
    with a space on each side so that ` term` matches the start of any word."""
    if not text:
        return " "
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("œ", "oe"))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii")
    return f" {_not_word.sub(' ', ascii_text).strip()} "


def search_stems(query: str) -> list[str]:
    """Split a query into the stems of its meaningful words, at most MAX_TERMS."""
    words = [word for word in fold(query).split() if word not in STOP_WORDS]
    stems = []
    for word in words:
        stem = _stemmer.stemWord(word)
        if stem and stem not in stems:
            stems.append(stem)
    return stems[:MAX_TERMS]


def register_sqlite_functions(sender, connection, **kwargs):
    """Give each SQLite connection the `portal_fold` SQL function."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "portal_fold", 1, fold, deterministic=True
        )
