"""Searches over inputs: PostInputsSearches, and PostSearches (the older route, same answer).

The filters are turned into a database filter by console.localapi.query. Hits are paged like ListInputs
(`pagination.page`, `pagination.per_page`), newest first, each with its input and score 1 (a filter
either matches or not). `only_count` answers `hit_counts` instead of hits.
"""

from clarifai_grpc.grpc.api import resources_pb2, service_pb2

from console.localapi.context import Context
from console.localapi.handlers import rpc
from console.localapi.handlers.common import get_app, page_slice
from console.localapi.messages import INPUT_RELATIONS, input_message
from console.localapi.models import App, Input
from console.localapi.query import invalid_search, search_inputs


def _one_search(searches: list[resources_pb2.Search]) -> resources_pb2.Search:
    """The one search a request may carry; none is a search without filters (every input)."""
    if len(searches) > 1:
        raise invalid_search(f"Give at most one search in searches, not {len(searches)}: combine their filters.")
    return searches[0] if searches else resources_pb2.Search()


def _answer(
    ctx: Context,
    app: App,
    search: resources_pb2.Search,
    pagination: service_pb2.Pagination,
    only_count: bool = False,
) -> service_pb2.MultiSearchResponse:
    inputs = search_inputs(app, search)
    response = service_pb2.MultiSearchResponse(searches=[search])
    if only_count:
        response.hit_counts.add(estimated_total=inputs.count())
        return response
    # As ListInputs: the page's keys from the index first, then just those rows with what they show.
    pks = list(inputs.order_by("-id").values_list("pk", flat=True)[page_slice(pagination.page, pagination.per_page)])
    rows = Input.objects.filter(pk__in=pks).order_by("-id").prefetch_related(*INPUT_RELATIONS)
    for item in rows:
        item.app = app
        response.hits.add(score=1.0, input=input_message(item, ctx.origin), user_id=app.user_id, app_id=app.app_id)
    return response


@rpc("PostInputsSearches", scope="Inputs:Get")
def post_inputs_searches(
    ctx: Context, request: service_pb2.PostInputsSearchesRequest
) -> service_pb2.MultiSearchResponse:
    app = get_app(ctx, request.user_app_id)
    return _answer(ctx, app, _one_search(list(request.searches)), request.pagination, request.only_count)


@rpc("PostSearches", scope="Inputs:Get")
def post_searches(ctx: Context, request: service_pb2.PostSearchesRequest) -> service_pb2.MultiSearchResponse:
    app = get_app(ctx, request.user_app_id)
    if request.HasField("query") and request.searches:
        raise invalid_search("Give either query or searches, not both.")
    search = (
        resources_pb2.Search(query=request.query) if request.HasField("query") else _one_search(list(request.searches))
    )
    return _answer(ctx, app, search, request.pagination)
