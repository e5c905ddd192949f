// A frontend's use of the client `@hey-api/openapi-ts` generates from openapi.yaml. The test
// (tests/test_generated_clients.py) copies this file beside the generated ./generated/ folder in a
// temporary folder and compiles both with `tsc --strict`; every `@ts-expect-error` line must fail
// to compile, so the generated types are as tight as they claim.
import { createExperiment, filterExperiments, getExperiment, updateExperiment } from "./generated";
import type { Experiment, ExperimentPatch, ExperimentStatus, FilterRequest } from "./generated";
import { client } from "./generated/client.gen";

client.setConfig({ baseUrl: "http://127.0.0.1:4010/api/v2", auth: "sk_live_acme_dev_4f7d2c9a1b8e" });

export async function lifecycle(): Promise<string> {
  const created = await createExperiment({
    body: {
      dataset_id: "ds_7a6b5c4d",
      workflow: [{ type: "completion", config: { model: "gpt-4o", temperature: 0.2 } }],
      evaluator_ids: ["helpfulness"],
    },
  });
  if (!created.data) throw new Error(`create failed: ${JSON.stringify(created.error)}`);
  const experiment: Experiment = created.data;
  const patch: ExperimentPatch = { name: "Renamed", description: null, batch_size: 50 };
  const patched = await updateExperiment({ path: { experiment_id: experiment.id }, body: patch });
  const read = await getExperiment({ path: { experiment_id: experiment.id } });
  const filter: FilterRequest = { filters: { status: { operator: "in", value: ["running", "failed"] } } };
  const page = await filterExperiments({ body: filter, query: { page_size: 10, sort_by: "-created_at" } });
  return `${experiment.id} ${patched.data?.name} ${read.data?.status} ${page.data?.count}`;
}

// @ts-expect-error status is one of the four values
export const statusValues: ExperimentStatus = "done";

// @ts-expect-error a filter condition needs an operator and a value
export const emptyCondition: FilterRequest = { filters: { status: {} } };

// @ts-expect-error an unknown field is a typo
export const noTypos: ExperimentPatch = { nmae: "typo" };
