"""URL routes under /api/v2/."""

from django.urls import path

from drf_backend import views

urlpatterns = [
    path("api/v2/experiments/", views.ExperimentListCreateView.as_view()),
    path("api/v2/experiments/list/", views.ExperimentFilterView.as_view()),
    path("api/v2/experiments/summary/", views.ExperimentSummaryView.as_view()),
    path("api/v2/experiments/<str:experiment_id>/", views.ExperimentDetailView.as_view()),
]
