// A frontend's use of the Experiments API through openapi-fetch and the types openapi-typescript
// generates from openapi.yaml (written to ./generated/schema.d.ts by tests/test_generated_clients.py).
// It must compile under `tsc --strict`; every `@ts-expect-error` line must fail to compile (if one
// compiled, tsc would report the directive as unused), so the types are as tight as they claim.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema";

type Schemas = components["schemas"];
const api = createClient<paths>({ baseUrl: "http://127.0.0.1:4010/api/v2" });
const auth = { headers: { Authorization: "Bearer sk_live_acme_dev_4f7d2c9a1b8e" } };

export async function lifecycle(): Promise<string> {
  const created = await api.POST("/experiments/", {
    ...auth,
    body: {
      dataset_id: "ds_7a6b5c4d",
      workflow: [
        { type: "prompt", config: { prompt_slug: "support-answer", version: 3 } },
        { type: "completion", config: { model: "gpt-4o", temperature: 0.2, reasoning_effort: "low" } },
        { type: "condition", config: { condition_policy: { "event.score": { operator: "gte", value: 0.5 } } } },
        { type: "duplicate", config: {} },
      ],
      evaluator_ids: ["helpfulness"],
    },
  });
  if (!created.data) throw new Error("create failed");
  const id: string = created.data.id;
  const tracing: boolean | undefined = created.data.enable_tracing; // documented optional in responses
  const span: string = created.data.span_workflow_name; // always sent: required in the response type
  const method: "auto" | "llm" | "code" | null = created.data.generation_method;

  const patched = await api.PATCH("/experiments/{experiment_id}/", {
    ...auth,
    params: { path: { experiment_id: id } },
    body: { name: "Renamed", description: null, batch_size: 50 },
  });
  const count: number | undefined = patched.data?.workflow_count;

  const page = await api.POST("/experiments/list/", {
    ...auth,
    params: { query: { page_size: 10, sort_by: "-created_at" } },
    body: { filters: { status: { operator: "in", value: ["running", "failed"] } } }, // is_exporting may be left out
  });
  const total: number | undefined = page.data?.count;
  return `${id} ${tracing} ${span} ${method} ${count} ${total}`;
}

// -- what the types refuse -------------------------------------------------------------------------

// @ts-expect-error a prompt step's config is an object naming the prompt, not a number
export const promptConfigIsTyped: Schemas["WorkflowStep"] = { type: "prompt", config: 42 };

// @ts-expect-error a prompt needs prompt_id or prompt_slug
export const promptNeedsAnId: Schemas["PromptConfig"] = { version: 3 };

// @ts-expect-error a filter condition needs an operator and a value
export const emptyCondition: Schemas["FilterCondition"] = {};

// @ts-expect-error `in` takes a list
export const inTakesAList: Schemas["FilterCondition"] = { operator: "in", value: "running" };

// @ts-expect-error `isnull` takes a boolean
export const isnullTakesABoolean: Schemas["FilterCondition"] = { operator: "isnull", value: "yes" };

// @ts-expect-error condition_policy maps event fields to conditions; it is not a string
export const policyIsAnObject: Schemas["ConditionConfig"] = { condition_policy: "event.score >= 0.5" };

// @ts-expect-error an unknown field is a typo
export const noTypos: Schemas["ExperimentPatch"] = { nmae: "typo" };

// @ts-expect-error status is one of the four values
export const statusValues: Schemas["ExperimentStatus"] = "done";
