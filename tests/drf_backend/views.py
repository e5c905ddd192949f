"""API views for /api/v2/experiments…: list and create, filter, summary, and one experiment."""

from typing import Any

from django.http import Http404
from rest_framework import generics
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from drf_backend import faults
from drf_backend.filters import apply_filters
from drf_backend.models import Experiment, start_due_experiments
from drf_backend.serializers import (
    ExperimentDetailSerializer,
    ExperimentListItemSerializer,
    ExperimentWriteSerializer,
    FilterBodySerializer,
)


class ExperimentPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class BareListPagination(ExperimentPagination):
    """GET /experiments/ answers a bare JSON array; the page is chosen with the query string."""

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response(data)


class StableOrderingFilter(OrderingFilter):
    """sort_by as DRF's OrderingFilter reads it, with the id as a tie-breaker so pages never overlap."""

    def get_ordering(self, request: Request, queryset, view) -> list[str]:
        return [*super().get_ordering(request, queryset, view), "-id"]


class OrganizationExperimentsMixin:
    """Every view sees only the caller's organization's experiments, with due status changes applied."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        start_due_experiments()

    def get_queryset(self):
        return Experiment.objects.filter(organization=self.request.user).order_by("-created_at", "-id")


class ExperimentListCreateView(OrganizationExperimentsMixin, generics.ListCreateAPIView):
    pagination_class = BareListPagination

    def get_serializer_class(self):
        return ExperimentWriteSerializer if self.request.method == "POST" else ExperimentListItemSerializer


class ExperimentFilterView(OrganizationExperimentsMixin, generics.GenericAPIView):
    serializer_class = ExperimentListItemSerializer
    pagination_class = ExperimentPagination
    filter_backends = [StableOrderingFilter]
    ordering_param = "sort_by"
    ordering_fields = ["created_at", "started_at", "completed_at", "name", "status", "progress", "workflow_count"]
    ordering = ["-created_at"]

    def post(self, request: Request) -> Response:
        body = FilterBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        queryset = self.filter_queryset(apply_filters(self.get_queryset(), body.validated_data["filters"]))
        current_filters = request.data.get("filters") or {}
        if body.validated_data["is_exporting"]:
            # An export takes every match at once.
            results = self.get_serializer(queryset, many=True).data
            return Response(
                {
                    "count": len(results),
                    "results": results,
                    "next": None,
                    "previous": None,
                    "current_filters": current_filters,
                }
            )
        page = self.paginate_queryset(queryset)
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        response.data["current_filters"] = current_filters
        return response


class ExperimentSummaryView(OrganizationExperimentsMixin, generics.GenericAPIView):
    serializer_class = FilterBodySerializer  # OPTIONS describes the POST body with it
    def get(self, request: Request) -> Response:
        return Response({"total_count": self.get_queryset().count()})

    def post(self, request: Request) -> Response:
        body = FilterBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response({"total_count": apply_filters(self.get_queryset(), body.validated_data["filters"]).count()})


class ExperimentDetailView(OrganizationExperimentsMixin, generics.RetrieveUpdateDestroyAPIView):
    lookup_field = "experiment_id"

    def get_serializer_class(self):
        return ExperimentDetailSerializer if self.request.method == "GET" else ExperimentWriteSerializer

    def get_object(self) -> Experiment:
        try:
            return super().get_object()
        except Http404:
            # PLANTED FAULT leaks_other_organization: a GET falls back to another organization's experiment.
            if faults.active("leaks_other_organization") and self.request.method == "GET":
                leaked = Experiment.objects.filter(experiment_id=self.kwargs["experiment_id"]).first()
                if leaked is not None:
                    return leaked
            raise
