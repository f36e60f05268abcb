// Test-time oracle: runs a batch of IAM requests through @cloud-copilot/iam-simulate (AGPL,
// installed by scripts/fetch_sarif_tools.sh, never shipped with bglint) in one process.
// stdin: {"simulations": [{"identity": [{name, policy}], "boundary": [{name, policy}] | null,
//          "principal", "action", "resource", "account", "context": {key: value | [values]},
//          "resourcePolicy": a resource's own policy | null}]}
// stdout: {"results": [{"result": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied" | "error",
//          "context": {...the keys the simulator accepts for the request...}, "error": text}]}
"use strict";
const path = require("path");
const tools = process.env.BGLINT_TOOLS || path.join(__dirname, "..", "..", ".tools");
const { createRequire } = require("module");
const sim = createRequire(path.join(tools, "package.json"))("@cloud-copilot/iam-simulate");

async function accepted(action, resource, context) {
  // Keep only the condition keys the simulator allows for this action and resource; the
  // Python side evaluates bglint with the same context.
  const [service, name] = action.split(":");
  let allowed;
  try {
    allowed = new Set(await sim.allowedContextKeysForRequest(service, name, resource, false, undefined));
  } catch (e) {
    return context;
  }
  const kept = {};
  for (const [key, value] of Object.entries(context)) {
    const lowered = key.toLowerCase();
    const generic = lowered.replace(/\/.*$/, "/${tagkey}");
    const tagKey = lowered.replace(/\/.*$/, "/tag-key");
    if (allowed.has(lowered) || allowed.has(generic) || allowed.has(tagKey)) kept[key] = value;
  }
  return kept;
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const { simulations } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const results = [];
  for (const s of simulations) {
    const context = await accepted(s.action, s.resource, s.context);
    const simulation = {
      request: {
        principal: s.principal,
        action: s.action,
        resource: { resource: s.resource, accountId: s.account },
        contextVariables: context,
      },
      identityPolicies: s.identity,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    };
    if (s.boundary) simulation.permissionBoundaryPolicies = s.boundary;
    if (s.resourcePolicy) simulation.resourcePolicy = s.resourcePolicy;
    try {
      const response = await sim.runSimulation(simulation, {});
      if (response.resultType === "error") {
        results.push({ result: "error", context, error: JSON.stringify(response.errors).slice(0, 500) });
      } else {
        results.push({ result: response.overallResult, context });
      }
    } catch (e) {
      results.push({ result: "error", context, error: String(e).slice(0, 500) });
    }
  }
  process.stdout.write(JSON.stringify({ results }));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
  process.exit(1);
});
