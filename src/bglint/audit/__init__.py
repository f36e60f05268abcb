"""`bglint audit`: the break-glass roles deployed in live AWS accounts, judged by the same rules.

- `sessions`: boto3 sessions and clients (standard AWS configuration; boto3 imported lazily);
- `targets`: which accounts (a list, a file, or an AWS Organization);
- `discovery`: which roles of an account are break-glass (tag, name, path, explicit ARNs);
- `run`: reads each account with bounded concurrency into the model (`bglint.load.aws`),
  records drift against the definitions (`drift`), and keeps going when one account fails;
- `drift`: a deployed role compared with its definition in the repository (BG030);
- `failures`: an exception as one clear line, with every credential scrubbed;
- `progress`: the progress line on a terminal.

The access levels each role reaches (`bglint.iam.reach`) are IAM knowledge; the command's
wiring is `bglint.pipeline.audit`.
"""
