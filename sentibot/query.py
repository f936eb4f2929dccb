"""One query grammar for every source, compiled to each source's own syntax.

    acme                       posts mentioning acme
    "acme phone" OR acmecorp   either the phrase or the word (OR joins neighbours)
    acme -ad -"giveaway"       without these words or phrases
    acme lang:en               in one language (where the source knows the language)

Space means AND; OR binds the terms on either side; exclusions and `lang:` apply to the whole
query. Matching is case-insensitive on whole words.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

MAX_TERMS = 20
MAX_EXPANSIONS = 8

_TOKEN = re.compile(r'-?"[^"]*"?|\S+')
_LANG = re.compile(r"^[a-z]{2,3}$")
# Characters some source's search syntax gives a meaning the grammar does not define.
_OPERATOR = re.compile(r"[:()\[\]{}*~^\\]")
# Thai, kana, CJK ideographs and Hangul syllables.
_UNSPACED = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"


class QueryError(ValueError):
    """The query does not parse; the message says how to fix it."""


@dataclass(frozen=True)
class Term:
    text: str
    phrase: bool = False

    def quoted(self) -> str:
        return f'"{self.text}"' if self.phrase else self.text

    def searched(self) -> str:
        """The term as a source searches it: a word that a source would read as an operator
        (`from:x`, `url:`, `subreddit:`, parentheses, AND/NOT) is searched as a phrase."""
        if self.phrase or _OPERATOR.search(self.text) or self.text in ("AND", "NOT", "OR"):
            return '"' + self.text.replace('"', "") + '"'
        return self.text

    def pattern(self) -> re.Pattern[str]:
        """The term as whole words; beside a script written without spaces between words
        (Chinese, Japanese, Thai; Korean's particles) any character is a boundary:
        "DrecomRSSに記事" names DrecomRSS."""
        words = r"\s+".join(re.escape(w) for w in self.text.split())
        return re.compile(rf"(?<![^\W{_UNSPACED}]){words}(?![^\W{_UNSPACED}])", re.IGNORECASE)


@dataclass(frozen=True)
class Query:
    groups: tuple[tuple[Term, ...], ...]  # AND of groups; OR within a group
    exclude: tuple[Term, ...] = ()
    lang: str | None = None

    def canonical(self) -> str:
        parts = [" OR ".join(t.quoted() for t in g) for g in self.groups]
        parts += [f"-{t.quoted()}" for t in self.exclude]
        if self.lang:
            parts.append(f"lang:{self.lang}")
        return " ".join(parts)

    def keywords(self) -> list[str]:
        """Every word the query names: reports leave them out of their drivers."""
        words = {w.lower() for g in self.groups for t in g for w in t.text.split()}
        return sorted(words)

    def named(self) -> list[str]:
        """The words and phrases the query looks for (not those it excludes): the topic's own
        terms, which never count as sentiment about it (report/masking.py)."""
        return sorted({t.text.lower() for g in self.groups for t in g})

    def matches(self, text: str, lang: str | None = None) -> bool:
        if self.lang and lang and lang.lower() != self.lang:
            return False
        if any(t.pattern().search(text) for t in self.exclude):
            return False
        return all(any(t.pattern().search(text) for t in g) for g in self.groups)

    def to_x(self) -> str:
        """X API v2 search operators; retweets left out (they repeat the original's text)."""
        parts = [_or_group(g) for g in self.groups]
        parts += [f"-{t.searched()}" for t in self.exclude]
        if self.lang:
            parts.append(f"lang:{self.lang}")
        parts.append("-is:retweet")
        return " ".join(parts)

    def to_reddit(self) -> str:
        """Reddit search syntax (AND by space, OR, NOT). Reddit has no language filter."""
        parts = [_or_group(g) for g in self.groups]
        parts += [f"NOT {t.searched()}" for t in self.exclude]
        return " ".join(parts)

    def alternatives(self) -> list[str]:
        """One AND search per OR combination (at most MAX_EXPANSIONS), phrases quoted, no
        exclusions: for searches whose OR and NOT differ or are undocumented (Bluesky, GitHub,
        Stack Exchange). Results are filtered with `matches` afterwards."""
        combos = itertools.islice(itertools.product(*self.groups), MAX_EXPANSIONS)
        return [" ".join(t.searched() for t in combo) for combo in combos]

    def to_news(self) -> str:
        """News search syntax (quoted phrases, OR, -exclusions); language goes in the URL."""
        parts = [_or_group(g) for g in self.groups]
        parts += [f"-{t.searched()}" for t in self.exclude]
        return " ".join(parts)

    def hashtags(self) -> list[str]:
        """The tags a hashtag timeline can be read for: each term of the first group, as one
        word of letters, digits and underscores (Mastodon has no search without a token)."""
        tags = [re.sub(r"[^\w]", "", t.text).lower() for t in self.groups[0]]
        return list(dict.fromkeys(t for t in tags if t))

    def to_algolia(self) -> list[str]:
        """Algolia (Hacker News) has no OR: one AND query per combination, at most
        MAX_EXPANSIONS; results are filtered with `matches` afterwards."""
        combos = itertools.islice(itertools.product(*self.groups), MAX_EXPANSIONS)
        excl = [f"-{t.searched()}" for t in self.exclude]
        return [" ".join([*(t.searched() for t in combo), *excl]) for combo in combos]


def _or_group(group: tuple[Term, ...]) -> str:
    if len(group) == 1:
        return group[0].searched()
    return "(" + " OR ".join(t.searched() for t in group) + ")"


def parse_query(text: str) -> Query:
    """Parse a topic query; raises QueryError with a message fit to show the user."""
    groups: list[list[Term]] = []
    exclude: list[Term] = []
    lang: str | None = None
    pending_or = False
    tokens = _TOKEN.findall(text.strip())
    if len(tokens) > MAX_TERMS:
        raise QueryError(f"a query can have at most {MAX_TERMS} terms")
    for token in tokens:
        if token == "OR":
            if not groups or pending_or:
                raise QueryError("OR needs a word or phrase on both sides, like `acme OR acmecorp`")
            pending_or = True
            continue
        if token.lower().startswith("lang:"):
            code = token[5:].lower()
            if not _LANG.match(code):
                raise QueryError(f"`{token}` is not a language: use a code such as lang:en")
            lang = code
            continue
        negative = token.startswith("-") and len(token) > 1
        term = _term(token[1:] if negative else token)
        if term is None:
            continue
        if negative:
            if pending_or:
                raise QueryError("an exclusion cannot be part of OR: write `a OR b -c`")
            exclude.append(term)
        elif pending_or:
            groups[-1].append(term)
            pending_or = False
        else:
            groups.append([term])
    if pending_or:
        raise QueryError("OR needs a word or phrase on both sides, like `acme OR acmecorp`")
    if not groups:
        raise QueryError("the query needs at least one word or phrase to look for")
    return Query(tuple(tuple(g) for g in groups), tuple(exclude), lang)


def _term(token: str) -> Term | None:
    if token.startswith('"'):
        if len(token) < 2 or not token.endswith('"'):
            raise QueryError('a quote is not closed: write phrases like "acme phone"')
        words = " ".join(token[1:-1].split())
        return Term(words, phrase=" " in words) if words else None
    word = token.strip('"')
    return Term(word) if word and re.search(r"\w", word) else None
