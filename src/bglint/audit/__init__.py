"""`bglint audit`: the break-glass roles deployed in live AWS accounts, judged by the same rules.

- `sessions`: boto3 sessions and clients (standard AWS configuration; boto3 imported lazily);
- `targets`: which accounts (a list, a file, or an AWS Organization);
- `discovery`: which roles of an account are break-glass (tag, name, path, explicit ARNs);
- `run`: reads each account with bounded concurrency into the model (`bglint.load.aws`),
  records drift against the definitions (`bglint.load.drift`), and keeps going when one
  account fails;
- `failures`: an exception as one clear line, with every credential scrubbed;
- `progress`: the progress line on a terminal;
- `reach`: the access levels each role reaches, for the readable audit report.
"""
