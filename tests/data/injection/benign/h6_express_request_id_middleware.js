// middleware/requestContext.js
'use strict';

const { randomUUID } = require('node:crypto');
const { AsyncLocalStorage } = require('node:async_hooks');

const als = new AsyncLocalStorage();

/**
 * Attaches a request ID to every request and exposes it through
 * AsyncLocalStorage so loggers deep in the call stack can read it.
 *
 * If the client sends `X-Request-Id`, we reuse it only when it looks like
 * a UUID; otherwise we generate a new one to avoid log injection.
 */
function requestContext() {
  const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

  return function (req, res, next) {
    const incoming = req.get('x-request-id');
    const id = incoming && UUID_RE.test(incoming) ? incoming : randomUUID();
    res.set('X-Request-Id', id);
    als.run({ requestId: id, startedAt: process.hrtime.bigint() }, () => next());
  };
}

function currentRequestId() {
  const store = als.getStore();
  return store ? store.requestId : undefined;
}

module.exports = { requestContext, currentRequestId };
