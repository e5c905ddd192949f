"""Database models: organizations and their API keys, datasets, evaluators and experiments."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F
from django.utils import timezone


class Organization(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    name = models.CharField(max_length=255)

    # DRF treats request.user as the authenticated principal; here that is the organization.
    is_authenticated = True

    def __str__(self) -> str:
        return self.id


class ApiKey(models.Model):
    key = models.CharField(primary_key=True, max_length=128)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")


class Dataset(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=255)


class Evaluator(models.Model):
    """An evaluator; its id is its slug."""

    id = models.CharField(primary_key=True, max_length=128)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="evaluators")
    name = models.CharField(max_length=255)


class EvaluatorWorkflowVersion(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="evaluator_workflows")


class Experiment(models.Model):
    PENDING, RUNNING, COMPLETED, FAILED = "pending", "running", "completed", "failed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="experiments")
    # The public id; unique per organization so one tenant's ids never collide with (or reveal) another's.
    experiment_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    description = models.TextField(null=True, blank=True)
    status = models.CharField(max_length=16, default=PENDING)
    # A plain column rather than a foreign key: datasets are looked up within the organization.
    dataset_id = models.CharField(max_length=255, null=True)
    workflow = models.JSONField(default=list)
    workflow_count = models.PositiveIntegerField(default=0)
    evaluator_slugs = models.JSONField(default=list)
    evaluator_workflow_ids = models.JSONField(default=list)
    span_workflow_name = models.CharField(max_length=255, default="workflow")
    enable_tracing = models.BooleanField(default=True)
    batch_size = models.PositiveIntegerField(default=100)
    concurrency = models.PositiveIntegerField(default=15)
    generation_method = models.CharField(max_length=64, null=True)
    progress = models.FloatField(default=0.0)
    error_message = models.TextField(null=True)
    tags = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True)
    completed_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "experiment_id"], name="unique_experiment_per_org")
        ]

    def save(self, *args, **kwargs) -> None:
        self.workflow_count = len(self.workflow or [])
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "workflow" in update_fields:
            kwargs["update_fields"] = {*update_fields, "workflow_count"}
        super().save(*args, **kwargs)

    @property
    def dataset_name(self) -> str | None:
        if self.dataset_id is None:
            return None
        names = Dataset.objects.filter(organization_id=self.organization_id, id=self.dataset_id)
        return names.values_list("name", flat=True).first()


def start_due_experiments() -> None:
    """Move experiments that have been pending long enough to running (only with --start-running-after)."""
    delay = settings.DRF_BACKEND_START_RUNNING_AFTER
    if delay is None:
        return
    delta = timedelta(seconds=delay)
    Experiment.objects.filter(status=Experiment.PENDING, created_at__lte=timezone.now() - delta).update(
        status=Experiment.RUNNING, started_at=F("created_at") + delta
    )
