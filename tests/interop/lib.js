// Shared helpers for the interoperability scripts.
//
// Every script drives the imptsh simulator with the official `imp-central-api` JS client,
// exactly as that library's README and source show. The harness (test_interop.py) passes:
//
//   IMPTSH_SIM_BASE_URL   e.g. http://127.0.0.1:PORT/v5   (required)
//   IMPTSH_SIM_ROOT_URL   e.g. http://127.0.0.1:PORT      (control plane; derived if absent)
//   IMPTSH_SIM_USER, IMPTSH_SIM_PASSWORD, IMPTSH_SIM_EMAIL  (default account)
//   IMPTSH_SIM_OTP_USER, IMPTSH_SIM_OTP_PASSWORD, IMPTSH_SIM_OTP_CODE  (auth.js only)
//
// Each check prints one line ("ok N - what"); the first failure prints "FAIL ..." with the
// details and exits with status 1. A watchdog fails the script if it stalls.
'use strict';

const assert = require('assert');
const http = require('http');
const ImpCentralApi = require('imp-central-api');
const Errors = require('imp-central-api/lib/Errors');

function requireEnv(name) {
    const value = process.env[name];
    if (!value) {
        console.log(`FAIL: environment variable ${name} is not set`);
        process.exit(2);
    }
    return value;
}

const baseUrl = requireEnv('IMPTSH_SIM_BASE_URL').replace(/\/+$/, '');
const env = {
    baseUrl,
    rootUrl: (process.env.IMPTSH_SIM_ROOT_URL || baseUrl.replace(/\/v5$/, '')).replace(/\/+$/, ''),
    user: process.env.IMPTSH_SIM_USER || 'demo',
    password: process.env.IMPTSH_SIM_PASSWORD || 'demo',
    email: process.env.IMPTSH_SIM_EMAIL || 'demo@example.com',
    otpUser: process.env.IMPTSH_SIM_OTP_USER || null,
    otpPassword: process.env.IMPTSH_SIM_OTP_PASSWORD || null,
    otpCode: process.env.IMPTSH_SIM_OTP_CODE || null,
};

const WATCHDOG_MS = Number(process.env.IMPTSH_INTEROP_TIMEOUT_MS || 45000);

let counter = 0;
let current = '(setup)';
let finished = false;

function describe(err) {
    if (err instanceof Errors.ImpCentralApiError) {
        return `ImpCentralApiError HTTP/${err.statusCode}: ${err.message}\n` +
            `  body: ${JSON.stringify(err.body)}`;
    }
    if (err instanceof Errors.InvalidDataError) {
        return `InvalidDataError (raised by the library, not the server): ${err.message}`;
    }
    if (err && err.stack) {
        return err.stack;
    }
    return String(err);
}

function fail(what, err) {
    console.log(`FAIL ${counter + 1} - ${what}`);
    if (err !== undefined) {
        console.log(describe(err).split('\n').map(l => '  ' + l).join('\n'));
    }
    finished = true;
    process.exit(1);
}

const watchdog = setTimeout(() => {
    fail(`${current}: watchdog timeout after ${WATCHDOG_MS} ms (script stalled)`);
}, WATCHDOG_MS);

process.on('unhandledRejection', (reason) => fail(`${current}: unhandled rejection`, reason));
process.on('uncaughtException', (err) => fail(`${current}: uncaught exception`, err));
process.on('exit', (code) => {
    if (!finished && code === 0) {
        console.log(`FAIL - script ended before completing (last step: ${current})`);
        process.exit(1);
    }
});

// Runs one named check; fn may be async and returns the value of fn.
async function check(what, fn) {
    current = what;
    let value;
    try {
        value = await fn();
    } catch (err) {
        fail(what, err);
    }
    counter += 1;
    console.log(`ok ${counter} - ${what}`);
    return value;
}

function done() {
    clearTimeout(watchdog);
    finished = true;
    console.log(`# all ${counter} checks passed`);
    process.exit(0);
}

// Asserts that the promise rejects with an ImpCentralApiError (i.e. the server answered with
// a non-2xx status and the library surfaced it). Optional expectations:
//   status:  exact HTTP status (number) or array of allowed statuses
//   message: exact "title: detail" string the library builds from errors[0]
//   title:   prefix of the message (the errors[0].title)
// Returns the error.
async function expectApiError(promise, expect = {}) {
    let result;
    try {
        result = await promise;
    } catch (err) {
        if (!(err instanceof Errors.ImpCentralApiError)) {
            throw new assert.AssertionError({
                message: `expected ImpCentralApiError, got ${describe(err)}`,
            });
        }
        const status = err.statusCode;
        if (expect.status !== undefined) {
            const allowed = Array.isArray(expect.status) ? expect.status : [expect.status];
            assert.ok(allowed.includes(status),
                `expected HTTP status ${allowed.join(' or ')}, got ${status}: ${err.message} ` +
                `body=${JSON.stringify(err.body)}`);
        } else {
            assert.ok(status >= 400 && status < 500,
                `expected a 4xx status, got ${status}: ${err.message}`);
        }
        // Every error must carry the documented envelope (spec section 3.1).
        assert.ok(err.body && Array.isArray(err.body.errors) && err.body.errors.length > 0,
            `error body lacks errors[]: ${JSON.stringify(err.body)}`);
        for (const e of err.body.errors) {
            assert.strictEqual(typeof e.status, 'string', `errors[].status must be a string: ${JSON.stringify(e)}`);
            assert.ok(e.title && e.detail, `errors[] entry lacks title/detail: ${JSON.stringify(e)}`);
        }
        if (expect.message !== undefined) {
            assert.strictEqual(err.message, expect.message);
        }
        if (expect.title !== undefined) {
            assert.ok(err.message.startsWith(expect.title + ': '),
                `expected title "${expect.title}", got message "${err.message}"`);
        }
        return err;
    }
    throw new assert.AssertionError({
        message: `expected the call to fail, but it succeeded with ${JSON.stringify(result)}`,
    });
}

function isIsoTimestamp(value) {
    return typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value) &&
        !Number.isNaN(new Date(value).getTime());
}

function assertCollection(body, what = 'collection') {
    assert.ok(body && Array.isArray(body.data), `${what}: data must be an array: ${JSON.stringify(body)}`);
    assert.ok(body.links && typeof body.links === 'object', `${what}: links must be present`);
    return body.data;
}

function assertResource(body, type, what = 'resource') {
    assert.ok(body && body.data && typeof body.data === 'object', `${what}: no data: ${JSON.stringify(body)}`);
    const d = body.data;
    if (type !== undefined) {
        assert.strictEqual(d.type, type, `${what}: data.type`);
    }
    assert.ok(typeof d.id === 'string' && d.id.length > 0, `${what}: data.id`);
    assert.ok(!d.id.includes('/'), `${what}: id must not contain '/'`);
    assert.ok(d.attributes && typeof d.attributes === 'object', `${what}: attributes must be an object`);
    assert.ok(d.relationships && typeof d.relationships === 'object',
        `${what}: relationships must be an object`);
    for (const [k, v] of Object.entries(d.relationships)) {
        assert.ok(v !== null, `${what}: relationship ${k} must be omitted rather than null`);
    }
    return d;
}

// Fetches every page of a library list() call (page size 100), following links.next exactly as
// impt does, and returns all items.
async function listAll(listFn, filters = null) {
    const items = [];
    for (let page = 1; page <= 50; page++) {
        const body = await listFn(filters, page, 100);
        items.push(...assertCollection(body));
        if (!('next' in body.links)) {
            return items;
        }
    }
    throw new assert.AssertionError({ message: 'links.next still present after 50 pages' });
}

function ids(items) {
    return items.map(i => i.id).sort();
}

function sleep(ms) {
    return new Promise(resolve => setTimeout(resolve, ms));
}

async function waitFor(predicate, what, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = predicate();
        if (value) {
            return value;
        }
        if (Date.now() > deadline) {
            throw new assert.AssertionError({ message: `timed out after ${timeoutMs} ms waiting for ${what}` });
        }
        await sleep(20);
    }
}

// Calls the simulator's control plane (not part of the impCentral API; no token).
function simControl(method, path, body = null) {
    const url = new URL(env.rootUrl + path);
    const payload = body === null ? null : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
        const req = http.request(url, {
            method,
            headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {},
        }, (res) => {
            const chunks = [];
            res.on('data', c => chunks.push(c));
            res.on('end', () => {
                const text = Buffer.concat(chunks).toString('utf8');
                if (res.statusCode < 200 || res.statusCode >= 300) {
                    reject(new Error(`control plane ${method} ${path} -> HTTP ${res.statusCode}: ${text}`));
                    return;
                }
                let parsed = text;
                try {
                    parsed = text ? JSON.parse(text) : null;
                } catch (e) {
                    // keep raw text
                }
                resolve(parsed);
            });
        });
        req.on('error', reject);
        if (payload) {
            req.write(payload);
        }
        req.end();
    });
}

function pushLogs(deviceId, lines) {
    return simControl('POST', `/_sim/devices/${encodeURIComponent(deviceId)}/logs`, { lines });
}

// A fresh library instance pointed at the simulator, logged in with the default account.
async function loggedInApi() {
    const api = new ImpCentralApi(env.baseUrl);
    const res = await api.auth.login(env.user, env.password);
    assert.ok(res && typeof res.access_token === 'string' && res.access_token.length > 0,
        `login returned no access_token: ${JSON.stringify(res)}`);
    return api;
}

const uniq = (prefix) => `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;

module.exports = {
    assert,
    ImpCentralApi,
    Errors,
    env,
    check,
    done,
    fail,
    expectApiError,
    isIsoTimestamp,
    assertCollection,
    assertResource,
    listAll,
    ids,
    sleep,
    waitFor,
    simControl,
    pushLogs,
    loggedInApi,
    uniq,
};
