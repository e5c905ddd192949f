"""One method per operationId: unpack the request, call the rules and the store, pack the answer."""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import URL
from starlette.responses import Response

from . import jsonio, rules
from .clock import iso
from .spec import Contract
from .store import Store


def _json(body: Any, status: int = 200) -> Response:
    return Response(jsonio.dumps(body), status_code=status, media_type="application/json")


class Handlers:
    """The operations of the spec, as methods named after their operationId in snake case."""

    def __init__(self, contract: Contract) -> None:
        self.defaults = contract.property_defaults("ExperimentCreate")

    # -- experiments ---------------------------------------------------------------------------

    async def create_experiment(self, store: Store, org_id: str, body: dict[str, Any]) -> Response:
        catalog = store.catalog(org_id)
        changes = rules.normalize_request(body)
        rules.check_references(changes, catalog)
        experiment_id = body.get("experiment_id") or rules.new_experiment_id()
        record = store.insert(
            org_id, experiment_id,
            build=lambda: rules.new_experiment(changes, experiment_id=experiment_id, now=iso(store.clock.now()),
                                               defaults=self.defaults))
        return _json(rules.present(record, catalog), 201)

    async def get_experiment(self, store: Store, org_id: str, experiment_id: str) -> Response:
        return _json(rules.present(store.get(org_id, experiment_id), store.catalog(org_id)))

    async def update_experiment(self, store: Store, org_id: str, experiment_id: str, body: dict[str, Any]) -> Response:
        return self._update(store, org_id, experiment_id, body, replace=False)

    async def replace_experiment(self, store: Store, org_id: str, experiment_id: str, body: dict[str, Any]) -> Response:
        return self._update(store, org_id, experiment_id, body, replace=True)

    def _update(self, store: Store, org_id: str, experiment_id: str, body: dict[str, Any], *,
                replace: bool) -> Response:
        store.get(org_id, experiment_id)  # 404 before any other complaint about the body
        rules.check_body_id(experiment_id, body)
        catalog = store.catalog(org_id)
        changes = rules.normalize_request(body)
        if replace:
            changes = rules.replacement_changes(changes, self.defaults)
        rules.check_references(changes, catalog)
        record = store.update(org_id, experiment_id, lambda current: rules.plan_update(current, changes))
        return _json(rules.present(record, catalog))

    async def delete_experiment(self, store: Store, org_id: str, experiment_id: str) -> Response:
        store.delete(org_id, experiment_id)
        return Response(status_code=204)

    # -- search ----------------------------------------------------------------------------------

    async def list_experiments(self, store: Store, org_id: str, page: int, page_size: int) -> Response:
        ordered = rules.sort_experiments(store.all(org_id), "-created_at")
        result = rules.paginate(ordered, page, page_size)
        catalog = store.catalog(org_id)
        return _json([rules.present(r, catalog, detail=False) for r in result.items])

    async def filter_experiments(self, store: Store, org_id: str, url: URL, page: int, page_size: int, sort_by: str,
                                 body: dict[str, Any] | None = None) -> Response:
        body = body or {}
        filters = body.get("filters") or {}
        matches = rules.sort_experiments(rules.filter_experiments(store.all(org_id), filters), sort_by)
        if body.get("is_exporting"):
            page, page_size = 1, max(len(matches), 1)
        result = rules.paginate(matches, page, page_size)
        catalog = store.catalog(org_id)
        return _json({
            "count": result.count,
            "results": [rules.present(r, catalog, detail=False) for r in result.items],
            "next": str(url.include_query_params(page=page + 1)) if result.has_next else None,
            "previous": str(url.include_query_params(page=page - 1)) if result.has_previous else None,
            "current_filters": filters,
        })

    async def list_experiments_page(self, store: Store, org_id: str, url: URL, page: int, page_size: int,
                                    sort_by: str) -> Response:
        return await self.filter_experiments(store, org_id, url, page, page_size, sort_by)

    async def get_experiment_summary(self, store: Store, org_id: str) -> Response:
        return _json({"total_count": len(store.all(org_id))})

    async def summarize_filtered_experiments(self, store: Store, org_id: str,
                                             body: dict[str, Any] | None = None) -> Response:
        filters = (body or {}).get("filters") or {}
        return _json({"total_count": len(rules.filter_experiments(store.all(org_id), filters))})

    def by_operation_id(self, operation_ids: list[str]) -> dict[str, Any]:
        """The handler of every operationId; a missing one fails at start-up, not on first call."""
        missing = [op for op in operation_ids if not hasattr(self, _snake(op))]
        if missing:
            raise LookupError("no handler for operationId " + ", ".join(
                f"{op!r} (Handlers.{_snake(op)})" for op in missing))
        return {op: getattr(self, _snake(op)) for op in operation_ids}


def _snake(operation_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()
