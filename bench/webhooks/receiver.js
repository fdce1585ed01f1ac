// The checking webhook receiver of `bench/run.sh webhooks` (WEBHOOK_RECEIVER=node; see
// bench/scenarios/webhooks.sh): what a careful subscriber's endpoint does, on loopback. It checks
// each delivery's Standard Webhooks signature with the secret in WEBHOOK_SECRET (a bad one is
// answered 401, which the node treats as final), answers 204 at once, and appends one line per
// delivery to the file it is given, as the nginx receiver does:
//   <webhook-id> <received, Unix seconds with milliseconds> [BAD_SIGNATURE]
// Usage: WEBHOOK_SECRET=whsec_... node receiver.js <port> <file>
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');

const [port, file] = process.argv.slice(2);
const key = Buffer.from(process.env.WEBHOOK_SECRET.replace(/^whsec_/, ''), 'base64');
const out = fs.createWriteStream(file, { flags: 'a' });

function signedBy(id, timestamp, body, header) {
  const expected = crypto.createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
  return header.split(' ').some((signature) => {
    const [version, value] = signature.split(',');
    const given = Buffer.from(value ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
}

http.createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const received = (Date.now() / 1000).toFixed(3);
    const body = Buffer.concat(chunks);
    const id = request.headers['webhook-id'] ?? '';
    if (!signedBy(id, request.headers['webhook-timestamp'] ?? '', body, request.headers['webhook-signature'] ?? '')) {
      out.write(`${id} ${received} BAD_SIGNATURE\n`);
      response.writeHead(401).end();
      return;
    }
    out.write(`${id} ${received}\n`);
    response.writeHead(204).end();
  });
}).listen(Number(port), '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));

// Stopped with SIGTERM: flush what was received.
process.on('SIGTERM', () => out.end(() => process.exit(0)));
