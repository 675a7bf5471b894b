"""Page-number pagination with a capped page size (docs/spec.md §6.2).

A module of its own: the REST_FRAMEWORK setting imports it while DRF's generic views load.
Strict where DRF is lenient, so that the API refuses what the schema forbids: an empty `page` is an
invalid page (404), not page 1, and a `page_size` that is not an integer ≥ 1 is a 400, not the default.
"""

import re

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

MAX_PAGE_SIZE = 200
DIGITS = re.compile(r"[0-9]+")


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_number(self, request, paginator):
        # DRF reads a missing and an empty `page` alike as page 1; only a missing one is.
        page = request.query_params.get(self.page_query_param)
        if page is None:
            return 1
        return paginator.num_pages if page in self.last_page_strings else page

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        # Digits only, any length (a huge size is served as the cap); 0, "", "null", "-5", "1.5" are refused.
        if not DIGITS.fullmatch(value) or int(value) < 1:
            raise ValidationError({self.page_size_query_param: ["Send an integer of at least 1."]})
        return min(int(value), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        page = {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": list(self.last_page_strings)}]}
        size = {"type": "integer", "minimum": 1}
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number (1 is the first), or `last`. A page past the end is 404.",
                "schema": page,
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (default {self.page_size}); more than {self.max_page_size} are served as {self.max_page_size}.",
                "schema": size,
            },
        ]
