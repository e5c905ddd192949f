"""Seed data: two organizations with keys, datasets, evaluators and experiments, plus the JWT secret."""

from datetime import timedelta

from django.utils import timezone

JWT_SECRET = "drf-backend-jwt-secret-for-tests-0123456789"

ORG_A = "org_acme"
ORG_B = "org_globex"
KEY_A = "sk_live_acme_5f2d8c1e9b7a4360"
KEY_B = "sk_live_globex_0c4b7e2a91d35f86"

DATASET_A = "ds_7a6b5c4d"
DATASET_A_NAME = "Customer support questions"
DATASET_A2 = "ds_1e2f3a4b"
DATASET_A2_NAME = "Product FAQ"
EVALUATOR_A = "answer-relevance"
EVALUATOR_A2 = "faithfulness"
EVALUATOR_WORKFLOW_A = "wfv_3c9e1d7f2a6b4805"

DATASET_B = "ds_9c8d7e6f"
DATASET_B_NAME = "Globex invoices"
EVALUATOR_B = "invoice-accuracy"
EVALUATOR_WORKFLOW_B = "wfv_8b1a5f0e6d2c4937"

PENDING_EXPERIMENT_A = "3f1c2b7d9e8a4c6b8d0e1f2a3b4c5d6e"
RUNNING_EXPERIMENT_A = "exp_9f8b7c6d"
COMPLETED_EXPERIMENT_A = "0a9b8c7d6e5f40312a1b2c3d4e5f6a7b"
EXPERIMENT_B = "b7e6d5c4b3a2419080f1e2d3c4b5a697"

_WORKFLOW = [
    {"type": "prompt", "config": {"prompt_slug": "support-answer", "version": 3}},
    {"type": "completion", "config": {"model": "gpt-4o-mini", "temperature": 0.2}},
]


def load() -> None:
    from drf_backend.models import (
        ApiKey,
        Dataset,
        Evaluator,
        EvaluatorWorkflowVersion,
        Experiment,
        Organization,
    )

    now = timezone.now()
    org_a = Organization.objects.create(id=ORG_A, name="Acme")
    org_b = Organization.objects.create(id=ORG_B, name="Globex")
    ApiKey.objects.create(key=KEY_A, organization=org_a)
    ApiKey.objects.create(key=KEY_B, organization=org_b)
    Dataset.objects.create(id=DATASET_A, organization=org_a, name=DATASET_A_NAME)
    Dataset.objects.create(id=DATASET_A2, organization=org_a, name=DATASET_A2_NAME)
    Dataset.objects.create(id=DATASET_B, organization=org_b, name=DATASET_B_NAME)
    Evaluator.objects.create(id=EVALUATOR_A, organization=org_a, name="Answer relevance")
    Evaluator.objects.create(id=EVALUATOR_A2, organization=org_a, name="Faithfulness")
    Evaluator.objects.create(id=EVALUATOR_B, organization=org_b, name="Invoice accuracy")
    EvaluatorWorkflowVersion.objects.create(id=EVALUATOR_WORKFLOW_A, organization=org_a)
    EvaluatorWorkflowVersion.objects.create(id=EVALUATOR_WORKFLOW_B, organization=org_b)

    Experiment.objects.create(
        organization=org_a,
        experiment_id=COMPLETED_EXPERIMENT_A,
        name="Baseline support answers",
        description="First run against the support dataset.",
        status=Experiment.COMPLETED,
        dataset_id=DATASET_A,
        workflow=_WORKFLOW,
        evaluator_slugs=[EVALUATOR_A],
        progress=100.0,
        created_at=now - timedelta(days=2),
        started_at=now - timedelta(days=2) + timedelta(minutes=1),
        completed_at=now - timedelta(days=2) + timedelta(minutes=30),
    )
    Experiment.objects.create(
        organization=org_a,
        experiment_id=RUNNING_EXPERIMENT_A,
        name="Support answers with gpt-4o-mini",
        status=Experiment.RUNNING,
        dataset_id=DATASET_A,
        workflow=_WORKFLOW,
        evaluator_slugs=[EVALUATOR_A, EVALUATOR_A2],
        batch_size=50,
        concurrency=5,
        progress=42.5,
        created_at=now - timedelta(hours=3),
        started_at=now - timedelta(hours=3) + timedelta(minutes=2),
    )
    Experiment.objects.create(
        organization=org_a,
        experiment_id=PENDING_EXPERIMENT_A,
        name="FAQ answers, scored by workflow",
        dataset_id=DATASET_A2,
        workflow=_WORKFLOW[:1],
        evaluator_workflow_ids=[EVALUATOR_WORKFLOW_A],
        created_at=now - timedelta(minutes=10),
    )
    Experiment.objects.create(
        organization=org_b,
        experiment_id=EXPERIMENT_B,
        name="Invoice extraction",
        dataset_id=DATASET_B,
        workflow=[{"type": "completion", "config": {"model": "gpt-4o"}}],
        evaluator_slugs=[EVALUATOR_B],
        created_at=now - timedelta(hours=1),
    )
