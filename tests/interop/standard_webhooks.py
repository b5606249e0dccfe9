"""Bridge to the Standard Webhooks reference library for the Rust tests.

    sign   SECRET ID TIMESTAMP BODY_FILE   prints the webhook-signature value
    verify SECRET ID TIMESTAMP SIGNATURE BODY_FILE
                                           exits 0 when the library accepts it,
                                           1 (with the reason) when it refuses
"""

import sys
from datetime import datetime, timezone

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


def main(argv):
    command, secret, msg_id, timestamp = argv[1:5]
    webhook = Webhook(secret)
    if command == "sign":
        with open(argv[5], "rb") as body_file:
            body = body_file.read().decode("utf-8")
        when = datetime.fromtimestamp(int(timestamp), tz=timezone.utc)
        print(webhook.sign(msg_id, when, body))
        return 0
    if command == "verify":
        signature = argv[5]
        with open(argv[6], "rb") as body_file:
            body = body_file.read()
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": signature,
        }
        try:
            webhook.verify(body, headers)
        except WebhookVerificationError as error:
            print(f"refused: {error}", file=sys.stderr)
            return 1
        return 0
    print(f"unknown command {command}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
