"""Reading page, page size and other numbers from a query string, forgivingly: a bad value is the default."""

from dataclasses import dataclass

from django.http import HttpRequest


def int_param(request: HttpRequest, name: str, default: int, lowest: int = 1, highest: int = 1_000_000) -> int:
    try:
        value = int(request.GET.get(name, default))
    except (TypeError, ValueError):
        return default
    return min(max(value, lowest), highest)


@dataclass(frozen=True)
class Page:
    """A page of a list the API pages by page/per_page, with no total unless one is known."""

    number: int
    per_page: int
    count: int  # items on this page
    total: int | None = None

    @property
    def first_item(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.count else 0

    @property
    def last_item(self) -> int:
        return (self.number - 1) * self.per_page + self.count

    @property
    def last_page(self) -> int | None:
        """The last page that has items (1 for an empty list), when the total is known."""
        if self.total is None:
            return None
        return max(1, -(-self.total // self.per_page))

    @property
    def past_end(self) -> bool:
        """An empty page after the last one, known from the total (the API answers past the end with none)."""
        return self.last_page is not None and self.number > self.last_page

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        if self.total is not None:
            return self.last_item < self.total
        return self.count == self.per_page  # a full page may have more after it

    @property
    def previous(self) -> int:
        # Past the end, the page before is the last one with items, not another empty one.
        return self.last_page if self.past_end and self.last_page is not None else self.number - 1

    @property
    def next(self) -> int:
        return self.number + 1


def page_params(request: HttpRequest, default_per_page: int, choices: tuple[int, ...] = ()) -> tuple[int, int]:
    """(page, per_page) from ?page= and ?per_page=; per_page is one of `choices` when given."""
    number = int_param(request, "page", 1)
    per_page = int_param(request, "per_page", default_per_page, 1, 1000)
    if choices and per_page not in choices:
        per_page = default_per_page
    return number, per_page
