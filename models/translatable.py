"""Messages people read in their own language: English text that remembers how it was made.

A `Translatable` is the English message itself (a `str`, so every API answer, log line and test
that uses it as text sees exactly the English it always did) and also its template with the
parameters filled in, so that a page can say the same thing in Persian through its catalogue.
Templates use `%(name)s` (or `%(name)r`) placeholders; a parameter that is itself Translatable
is translated too, so phrases compose ("AI (17) expiry date: 991332 is not a date…").

The templates are string literals in calls of `Translatable(...)`, which the console's message
extraction (`app/web/messages.py`) collects for the catalogue like `_()`."""

from __future__ import annotations

from collections.abc import Callable, Mapping

Translate = Callable[[str], str]


def _english(message: str) -> str:
    return message


class Translatable(str):
    template: str
    params: Mapping[str, object]

    def __new__(cls, template: str, **params: object) -> Translatable:
        text = super().__new__(cls, _fill(template, params, _english))
        text.template = template
        text.params = params
        return text

    def render(self, translate: Translate) -> str:
        """In the language of `translate`. Values (codes, numbers) are bidi-isolated (FSI …
        PDI), so that a GTIN keeps its order inside a right-to-left sentence."""
        return _fill(translate(self.template), self.params, translate, isolate=True)


def _fill(
    template: str, params: Mapping[str, object], translate: Translate, isolate: bool = False
) -> str:
    if not params:
        return template

    def value_of(value: object) -> object:
        if isinstance(value, Translatable):
            return _fill(translate(value.template), value.params, translate, isolate)
        return f"\u2068{value}\u2069" if isolate and isinstance(value, str | int) else value

    return template % {name: value_of(value) for name, value in params.items()}


def rendered(text: str, translate: Translate) -> str:
    """`text` in the language of `translate`: a Translatable by its template, any other text
    looked up as it is."""
    if isinstance(text, Translatable):
        return text.render(translate)
    return translate(text)


def reason(exc: BaseException) -> str:
    """What an exception raised with a Translatable says, still translatable."""
    if exc.args and isinstance(exc.args[0], Translatable):
        return exc.args[0]
    return str(exc)
