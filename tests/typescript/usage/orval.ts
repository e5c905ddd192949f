// A frontend's use of the client `orval --client fetch` generates from openapi.yaml. The test
// (tests/test_generated_clients.py) copies this file beside the generated ./generated/api.ts in a
// temporary folder and compiles both with `tsc --strict`; every `@ts-expect-error` line must fail
// to compile, so the generated types are as tight as they claim.
import { createExperiment, filterExperiments, getExperiment, updateExperiment } from "./generated/api";
import type { Experiment, ExperimentPatch, ExperimentStatus, FilterRequest } from "./generated/api";

// orval's functions fetch paths relative to the page (`/experiments/…`): serve the app behind a proxy
// of /api/v2, or give orval a `baseUrl` in its config file.
const auth: RequestInit = { headers: { Authorization: "Bearer sk_live_acme_dev_4f7d2c9a1b8e" } };

export async function lifecycle(): Promise<string> {
  const created = await createExperiment({
    dataset_id: "ds_7a6b5c4d",
    workflow: [{ type: "completion", config: { model: "gpt-4o", temperature: 0.2 } }],
    evaluator_ids: ["helpfulness"],
  }, auth);
  if (created.status !== 201) throw new Error(`create failed: ${created.status}`);
  const experiment: Experiment = created.data;
  const patch: ExperimentPatch = { name: "Renamed", description: null, batch_size: 50 };
  const patched = await updateExperiment(experiment.id, patch, auth);
  const read = await getExperiment(experiment.id, auth);
  const filter: FilterRequest = { filters: { status: { operator: "in", value: ["running", "failed"] } } };
  const page = await filterExperiments(filter, { page_size: 10, sort_by: "-created_at" }, auth);
  const total = page.status === 200 ? page.data.count : 0;
  return `${experiment.id} ${patched.status} ${read.status} ${total}`;
}

// @ts-expect-error status is one of the four values
export const statusValues: ExperimentStatus = "done";

// @ts-expect-error a filter condition needs an operator and a value
export const emptyCondition: FilterRequest = { filters: { status: {} } };

// @ts-expect-error an unknown field is a typo
export const noTypos: ExperimentPatch = { nmae: "typo" };
