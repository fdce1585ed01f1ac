// The webhook receiver of `bench/run.sh webhooks` (bench/scenarios/webhooks.sh): what a
// subscriber's endpoint does, on loopback. It checks each delivery's Standard Webhooks signature
// with the secret in WEBHOOK_SECRET (a bad one is answered 401, which the node treats as final),
// answers 204 at once, and appends one line per delivery to the file it is given:
//   <event id> <chat id or -> <chatSeq or 0> <occurredAt, Unix ms> <received, Unix ms> <type>
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
    const received = Date.now();
    const body = Buffer.concat(chunks);
    const id = request.headers['webhook-id'] ?? '';
    if (!signedBy(id, request.headers['webhook-timestamp'] ?? '', body, request.headers['webhook-signature'] ?? '')) {
      out.write(`${id} - 0 0 ${received} BAD_SIGNATURE\n`);
      response.writeHead(401).end();
      return;
    }
    const event = JSON.parse(body);
    out.write(`${event.id} ${event.chatId ?? '-'} ${event.chatSeq ?? 0} ${Date.parse(event.occurredAt)} ${received} ${event.type}\n`);
    response.writeHead(204).end();
  });
}).listen(Number(port), '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));

// Stopped with SIGTERM: flush what was received.
process.on('SIGTERM', () => out.end(() => process.exit(0)));
