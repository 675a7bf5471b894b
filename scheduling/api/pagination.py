"""Page-number pagination with a capped page size (docs/spec.md §6.2).

A module of its own: the REST_FRAMEWORK setting imports it while DRF's generic views load.
"""

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
