// Test-time oracle for SCPs and RCPs: runs requests through @cloud-copilot/iam-simulate (AGPL,
// installed by the set-up script, never shipped with bglint) in one process.
// stdin: {"requests": [{"principal", "action", "resource", "account", "scps": [{orgIdentifier, policies: [{name, policy}]}]}]}
// stdout: {"results": ["Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied" | "error: ..."]}
// The identity policy allows everything, so the verdict is the control policies' alone.
"use strict";
const path = require("path");
const tools = process.env.BGLINT_TOOLS || path.join(__dirname, "..", "..", ".tools");
const { createRequire } = require("module");
const sim = createRequire(path.join(tools, "package.json"))("@cloud-copilot/iam-simulate");

const ALLOW_ALL = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const { requests } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const results = [];
  for (const r of requests) {
    const simulation = {
      request: {
        principal: r.principal,
        action: r.action,
        resource: { resource: r.resource, accountId: r.account },
        // The keys AWS sets for every request by a role; SCP exemptions test them.
        contextVariables: { "aws:PrincipalArn": r.principal, "aws:PrincipalAccount": r.account },
      },
      identityPolicies: [{ name: "allow-all", policy: ALLOW_ALL }],
      serviceControlPolicies: r.scps,
      resourceControlPolicies: [],
    };
    try {
      const response = await sim.runSimulation(simulation, {});
      results.push(response.resultType === "error" ? "error: " + JSON.stringify(response.errors).slice(0, 300) : response.overallResult);
    } catch (e) {
      results.push("error: " + String(e).slice(0, 300));
    }
  }
  process.stdout.write(JSON.stringify({ results }));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
  process.exit(1);
});
