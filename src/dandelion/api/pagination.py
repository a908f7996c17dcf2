from typing import cast

from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from dandelion.core.paging import BoundedPaginator, count_limit


class StandardPagination(PageNumberPagination):
    """Page-number pagination with a bounded count (``dandelion.core.paging``).

    ``count`` is exact up to ``DANDELION_COUNT_LIMIT`` rows (1,000 for a ``search``); past it ``count`` is that
    limit and ``count_exact`` is false: a lower bound, and ``next`` says whether more pages follow. ``page=last``
    counts the list exactly."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    search_param = "search"

    # a factory method in place of DRF's class attribute (DRF only calls it): the count's limit depends on the request
    def django_paginator_class(self, queryset, page_size):  # type: ignore[override]
        searching = bool((self.request.query_params.get(self.search_param) or "").strip()) if self.request else False
        return BoundedPaginator(queryset, page_size, limit=count_limit(searching))

    def get_page_number(self, request, paginator):
        number = request.query_params.get(self.page_query_param) or 1
        if number in self.last_page_strings:
            paginator.count_all()
            number = paginator.num_pages
        return number

    def get_paginated_response(self, data):
        assert self.page is not None
        paginator = cast(BoundedPaginator, self.page.paginator)
        return Response({
            "count": paginator.count,
            "count_exact": paginator.count_exact,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count"]["description"] = (
            "Rows in the list, exact when count_exact is true; otherwise a lower bound (the list was counted up to "
            "a limit).")
        schema["properties"]["count_exact"] = {"type": "boolean", "example": True}
        schema["required"] = [*schema.get("required", []), "count_exact"]
        return schema
