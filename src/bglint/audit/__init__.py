"""`bglint audit`: the break-glass roles deployed in live AWS accounts, judged by the same rules.

- `sessions`: boto3 sessions and clients (standard AWS configuration; boto3 imported lazily);
- `targets`: which accounts (a list, a file, or an AWS Organization);
- `discovery`: which roles of an account are break-glass (tag, name, path, explicit ARNs);
- `run`: reads each account (in bulk, or role by role) with bounded concurrency into the model
  (`bglint.load.aws`, `bglint.load.aws_details`), records drift against the definitions
  (`drift`), and keeps going when one account fails;
- `offline`: the same judgement of saved bulk-read dumps (`--from DIR`);
- `organization`: the SCPs and RCPs on each account's path (`--organization`);
- `alerts`: the account's trails and EventBridge rules (what reports a break-glass role's use);
- `drift`: a deployed role compared with its definition in the repository (BG030);
- `failures`: an exception as one clear line, with every credential scrubbed;
- `progress`: the progress line on a terminal.

The access levels each role reaches (`bglint.iam.reach`) are IAM knowledge; the command's
wiring is `bglint.pipeline.audit`.
"""
