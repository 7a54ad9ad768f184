"""Links to a dataset's pages, for the datasets' own views and for the pages that point at a dataset
(the inputs grid filtered by one)."""

from django.urls import NoReverseMatch, reverse

from console.connections.models import Connection


def versions_url(connection: Connection, app_id: str, dataset_id: str) -> str:
    """The page of the dataset's versions and exports ("" when it has none: no dataset, or an id that no
    URL can carry, such as one typed into the grid's filter)."""
    if not dataset_id:
        return ""
    try:
        return reverse("datasets:versions", args=[connection.pk, app_id, dataset_id])
    except NoReverseMatch:
        return ""
