"""Serializers: request validation for experiments (workflow, scoring rules, references) and the response shapes."""

import uuid
from typing import Any

from rest_framework import exceptions, serializers, status

from drf_backend import faults
from drf_backend.filters import OPERATORS, clean_condition
from drf_backend.models import (
    Dataset,
    Evaluator,
    EvaluatorWorkflowVersion,
    Experiment,
    Organization,
    start_due_experiments,
)

# Fields that change how an experiment executes; they cannot change while it is running.
EXECUTION_FIELDS = (
    "dataset_id",
    "workflow",
    "evaluator_ids",
    "evaluator_workflow_ids",
    "batch_size",
    "concurrency",
    "generation_method",
)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the experiment's current state."
    default_code = "conflict"


# --- workflow steps ----------------------------------------------------------------------------------------------


class PromptConfigSerializer(serializers.Serializer):
    prompt_id = serializers.CharField(required=False)
    prompt_slug = serializers.CharField(required=False)
    version = serializers.JSONField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "prompt_id" not in attrs and "prompt_slug" not in attrs:
            raise serializers.ValidationError("A prompt step needs prompt_id or prompt_slug.")
        return attrs


class CompletionConfigSerializer(serializers.Serializer):
    model = serializers.CharField()
    temperature = serializers.FloatField(required=False, min_value=0, max_value=2)
    max_tokens = serializers.IntegerField(required=False, min_value=1)
    top_p = serializers.FloatField(required=False, min_value=0, max_value=1)
    frequency_penalty = serializers.FloatField(required=False, min_value=-2, max_value=2)
    presence_penalty = serializers.FloatField(required=False, min_value=-2, max_value=2)
    stop = serializers.JSONField(required=False, allow_null=True)
    response_format = serializers.JSONField(required=False, allow_null=True)
    tools = serializers.JSONField(required=False, allow_null=True)
    tool_choice = serializers.JSONField(required=False, allow_null=True)
    reasoning_effort = serializers.JSONField(required=False, allow_null=True)


class ConditionSerializer(serializers.Serializer):
    operator = serializers.ChoiceField(choices=OPERATORS, required=False, default="")
    value = serializers.JSONField(allow_null=True)


class ConditionConfigSerializer(serializers.Serializer):
    condition_policy = serializers.DictField(child=ConditionSerializer())

    def validate_condition_policy(self, value: dict[str, Any]) -> dict[str, Any]:
        bad = [key for key in value if not key.startswith("event.") or key == "event."]
        if bad:
            raise serializers.ValidationError(f"Keys must name an event field as 'event.<field>': {', '.join(bad)}.")
        return value


class DuplicateConfigSerializer(serializers.Serializer):
    name = serializers.CharField(required=False)


CONFIG_SERIALIZERS: dict[str, type[serializers.Serializer] | None] = {
    "prompt": PromptConfigSerializer,
    "completion": CompletionConfigSerializer,
    "eval": None,
    "condition": ConditionConfigSerializer,
    "wait": None,
    "duplicate": DuplicateConfigSerializer,
}


class WorkflowItemSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[*CONFIG_SERIALIZERS, "evaluator"])
    config = serializers.DictField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A partial update (PATCH) makes DRF skip `required` in nested serializers too; a step is
        # always whole, so say what is missing instead of failing on it below.
        missing = {name: ["This field is required."] for name in ("type", "config") if name not in attrs}
        if missing:
            raise serializers.ValidationError(missing)
        step_type = "eval" if attrs["type"] == "evaluator" else attrs["type"]
        config = attrs["config"]
        config_serializer = CONFIG_SERIALIZERS[step_type]
        if config_serializer is not None:
            checked = config_serializer(data=config)
            if not checked.is_valid():
                raise serializers.ValidationError({"config": checked.errors})
            # Keys the step does not know about are kept as sent; the known ones are stored normalised.
            config = {**config, **checked.validated_data}
        return {"type": step_type, "config": config}


# --- filters --------------------------------------------------------------------------------------------------------


class FilterBodySerializer(serializers.Serializer):
    """The body of POST /experiments/list/ and /experiments/summary/."""

    filters = serializers.DictField(child=ConditionSerializer(), required=False, default=dict)
    is_exporting = serializers.BooleanField(required=False, default=False)

    def validate_filters(self, filters: dict[str, dict[str, Any]]) -> dict[str, tuple[str, Any]]:
        cleaned, errors = {}, {}
        for field, condition in filters.items():
            operator = condition["operator"]
            try:
                cleaned[field] = (operator, clean_condition(field, operator, condition["value"]))
            except serializers.ValidationError as error:
                errors[field] = error.detail
        if errors:
            raise serializers.ValidationError(errors)
        return cleaned


# --- experiments: request ----------------------------------------------------------------------------------------


class ExperimentWriteSerializer(serializers.Serializer):
    """The body of create, PUT and PATCH; the response is the experiment's detail shape."""

    dataset_id = serializers.CharField(max_length=255, required=False)
    workflow = serializers.ListField(child=WorkflowItemSerializer(), required=False)
    evaluator_ids = serializers.ListField(child=serializers.CharField(max_length=128), required=False)
    evaluator_slugs = serializers.ListField(child=serializers.CharField(max_length=128), required=False)
    evaluator_workflow_ids = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    experiment_id = serializers.SlugField(max_length=64, required=False)
    name = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(allow_null=True, allow_blank=True, required=False)
    span_workflow_name = serializers.CharField(max_length=255, default="workflow")
    enable_tracing = serializers.BooleanField(default=True)
    batch_size = serializers.IntegerField(min_value=1, max_value=10_000, default=100)
    concurrency = serializers.IntegerField(min_value=1, max_value=1_000, default=15)
    generation_method = serializers.CharField(max_length=64, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance is None:
            self.fields["dataset_id"].required = True
            self.fields["workflow"].required = True

    @property
    def organization(self) -> Organization:
        return self.context["request"].user

    def validate_experiment_id(self, value: str) -> str:
        if self.instance is not None:
            if value != self.instance.experiment_id:
                raise serializers.ValidationError("Must match the id in the path; experiment ids cannot change.")
        elif Experiment.objects.filter(organization=self.organization, experiment_id=value).exists():
            raise serializers.ValidationError("An experiment with this id already exists.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        evaluators = self._evaluators_sent(attrs)
        workflow_ids = attrs.get("evaluator_workflow_ids")
        if evaluators and workflow_ids:
            raise serializers.ValidationError(
                "evaluator_ids (or evaluator_slugs) and evaluator_workflow_ids are mutually exclusive."
            )

        # Sending a non-empty list on one scoring path switches the experiment to it and clears the other.
        if evaluators:
            final_evaluators, final_workflow_ids = evaluators, []
        elif workflow_ids:
            final_evaluators, final_workflow_ids = [], workflow_ids
        else:
            final_evaluators = evaluators if evaluators is not None else self._current("evaluator_slugs")
            final_workflow_ids = workflow_ids if workflow_ids is not None else self._current("evaluator_workflow_ids")
        if not final_evaluators and not final_workflow_ids:
            raise serializers.ValidationError(
                "An experiment needs exactly one scoring path: a non-empty evaluator_ids (or evaluator_slugs) "
                "or a non-empty evaluator_workflow_ids."
            )
        if self.instance is None or evaluators is not None or workflow_ids is not None:
            attrs["evaluator_slugs"] = final_evaluators
            attrs["evaluator_workflow_ids"] = final_workflow_ids

        self._check_references(attrs, evaluators or [], workflow_ids or [])
        if self.instance is not None and self.instance.status == Experiment.RUNNING:
            self._check_running_lock(attrs)
        return attrs

    def _evaluators_sent(self, attrs: dict[str, Any]) -> list[str] | None:
        """The evaluator list this request asks for, or None when it sends neither name."""
        ids = attrs.pop("evaluator_ids", None)
        slugs = attrs.pop("evaluator_slugs", None)
        # PLANTED FAULT slugs_win_over_ids: the documented rule is that evaluator_ids wins.
        if faults.active("slugs_win_over_ids") and ids is not None and slugs is not None:
            return slugs
        # evaluator_slugs is the older name; when both are sent it is ignored entirely (not even checked).
        return ids if ids is not None else slugs

    def _current(self, field: str) -> list[str]:
        return list(getattr(self.instance, field)) if self.instance is not None else []

    def _check_references(self, attrs: dict[str, Any], evaluators: list[str], workflow_ids: list[str]) -> None:
        dataset_id = attrs.get("dataset_id")
        # PLANTED FAULT patch_accepts_unknown_dataset: updates skip the dataset existence check.
        skip_dataset = faults.active("patch_accepts_unknown_dataset") and self.instance is not None
        known = Dataset.objects.filter(organization=self.organization, id=dataset_id)
        if dataset_id is not None and not skip_dataset and not known.exists():
            raise exceptions.NotFound(f"Dataset not found: {dataset_id}.")
        self._check_exist(Evaluator, evaluators, "Evaluator")
        self._check_exist(EvaluatorWorkflowVersion, workflow_ids, "Evaluator workflow version")

    def _check_exist(self, model, ids: list[str], label: str) -> None:
        if not ids:
            return
        found = set(model.objects.filter(organization=self.organization, id__in=ids).values_list("id", flat=True))
        missing = [i for i in dict.fromkeys(ids) if i not in found]
        if missing:
            raise exceptions.NotFound(f"{label} not found: {', '.join(missing)}.")

    def _check_running_lock(self, attrs: dict[str, Any]) -> None:
        stored = {field: getattr(self.instance, field) for field in EXECUTION_FIELDS if field != "evaluator_ids"}
        stored["evaluator_ids"] = self.instance.evaluator_slugs
        wanted = dict(attrs)
        if "evaluator_slugs" in attrs:
            wanted["evaluator_ids"] = attrs["evaluator_slugs"]
        changed = [field for field in EXECUTION_FIELDS if field in wanted and wanted[field] != stored[field]]
        if changed:
            raise Conflict(
                f"Experiment {self.instance.experiment_id} is running; these fields cannot change until it "
                f"finishes: {', '.join(changed)}."
            )

    def create(self, validated_data: dict[str, Any]) -> Experiment:
        experiment_id = validated_data.pop("experiment_id", None) or uuid.uuid4().hex
        validated_data.setdefault("name", experiment_id)
        experiment = Experiment.objects.create(
            organization=self.organization, experiment_id=experiment_id, **validated_data
        )
        start_due_experiments()
        experiment.refresh_from_db()
        return experiment

    def update(self, instance: Experiment, validated_data: dict[str, Any]) -> Experiment:
        if faults.active("workflow_duplicate_crashes") and self.partial:
            # PLANTED FAULT workflow_duplicate_crashes: assumes every duplicate step names the step it
            # copies (`config["source"]`, which the API does not have), so any PATCH with a duplicate
            # step raises KeyError: an unhandled 500.
            for step in validated_data.get("workflow", []):
                if step["type"] == "duplicate":
                    step["config"]["source"].strip()
        validated_data.pop("experiment_id", None)
        for field, value in validated_data.items():
            setattr(instance, field, value)
        instance.save(update_fields=list(validated_data))
        return instance

    def to_representation(self, instance: Experiment) -> dict[str, Any]:
        return ExperimentDetailSerializer(instance, context=self.context).data


# --- experiments: responses --------------------------------------------------------------------------------------


class ExperimentListItemSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="experiment_id", read_only=True)
    dataset = serializers.CharField(source="dataset_id", read_only=True)
    dataset_name = serializers.CharField(read_only=True)

    class Meta:
        model = Experiment
        fields = [
            "id",
            "name",
            "status",
            "created_at",
            "description",
            "dataset",
            "dataset_id",
            "dataset_name",
            "workflow_count",
            "progress",
            "started_at",
            "completed_at",
            "tags",
        ]
        read_only_fields = fields


class ExperimentDetailSerializer(ExperimentListItemSerializer):
    evaluator_ids = serializers.JSONField(source="evaluator_slugs", read_only=True)

    class Meta(ExperimentListItemSerializer.Meta):
        fields = [
            *ExperimentListItemSerializer.Meta.fields,
            "workflow",
            "evaluator_ids",
            "evaluator_slugs",
            "evaluator_workflow_ids",
            "batch_size",
            "concurrency",
            "enable_tracing",
            "error_message",
        ]
        read_only_fields = fields
