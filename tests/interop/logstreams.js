// Log streams: create (json and text), state_change opened/subscribed/unsubscribed/closed,
// lines pushed through the simulator's control plane reach the messageHandler, device removal,
// one stream per account (a second create closes the first).
'use strict';

const {
    assert, check, done, expectApiError, isIsoTimestamp, assertCollection, sleep, waitFor,
    loggedInApi, pushLogs, simControl,
} = require('./lib');

const DEV = 'development_devicegroup';

function recorder() {
    return { messages: [], states: [], errors: [] };
}

function parseJson(text, what) {
    try {
        return JSON.parse(text);
    } catch (e) {
        throw new assert.AssertionError({ message: `${what} is not valid JSON: ${JSON.stringify(text)}` });
    }
}

(async () => {
    const api = await check('login', () => loggedInApi());

    const [dev0, dev1] = await check('assign two devices to a development group', async () => {
        const devices = assertCollection(await api.devices.list());
        assert.ok(devices.length >= 2, 'need two devices');
        const product = (await api.products.create({ name: 'Logs Product' })).data;
        const dg = (await api.deviceGroups.create(product.id, DEV, { name: 'Logs DG' })).data;
        await api.deviceGroups.addDevices(dg.id, devices[0].id, devices[1].id);
        return devices.slice(0, 2);
    });

    // ---- stream A: format json --------------------------------------------------------------
    const A = recorder();
    const jsonStates = () => A.states.map(s => parseJson(s, 'json state_change'));
    const jsonMessages = () => A.messages.map(m => parseJson(m, 'json message'));

    const streamA = await check('logStreams.create(json) resolves once the SSE stream is open', async () => {
        const res = await api.logStreams.create(
            m => A.messages.push(m), s => A.states.push(s), e => A.errors.push(e), 'json');
        assert.ok(res && res.data && typeof res.data.id === 'string' && res.data.id.length > 0,
            `POST /logstream body: ${JSON.stringify(res)}`);
        return res.data.id;
    });

    await check('json: state_change {"state":"opened"} arrives first', async () => {
        await waitFor(() => A.states.length > 0, 'the opened state_change');
        assert.deepStrictEqual(jsonStates()[0].state, 'opened', `states: ${JSON.stringify(A.states)}`);
    });

    await check('json: addDevice(id) -> state_change subscribed', async () => {
        await api.logStreams.addDevice(streamA, dev0.id);
        const s = await waitFor(() => jsonStates().find(x => x.state === 'subscribed'), 'subscribed');
        if ('device_id' in s) {
            assert.strictEqual(s.device_id, dev0.id);
        }
    });

    await check('json: a line pushed via /_sim/devices/{d}/logs reaches the messageHandler', async () => {
        await pushLogs(dev0.id, [{ type: 'server.log', msg: 'interop json line 1' }]);
        const m = await waitFor(() => jsonMessages().find(x => x.msg === 'interop json line 1'), 'the pushed line');
        assert.strictEqual(m.device_id, dev0.id);
        assert.strictEqual(m.type, 'server.log');
        assert.ok(isIsoTimestamp(m.ts), `ts: ${m.ts}`);
    });

    await check('json: a batch keeps its order; multi-line msg survives intact', async () => {
        const lines = [
            { type: 'agent.log', msg: 'interop batch a' },
            { type: 'server.error', msg: 'ERROR: interop batch b' },
            { type: 'server.log', msg: 'interop multi\nline c' },
        ];
        await pushLogs(dev0.id, lines);
        await waitFor(() => jsonMessages().some(x => x.msg === 'interop multi\nline c'), 'the batch');
        const got = jsonMessages().filter(x => String(x.msg).startsWith('interop batch') ||
            String(x.msg).startsWith('ERROR: interop batch') || String(x.msg).startsWith('interop multi'));
        assert.deepStrictEqual(got.map(x => [x.type, x.msg]), lines.map(l => [l.type, l.msg]));
    });

    await check('json: addDevice(MAC) subscribes the second device; its lines arrive', async () => {
        const before = jsonStates().filter(x => x.state === 'subscribed').length;
        await api.logStreams.addDevice(streamA, dev1.attributes.mac_address);
        await waitFor(() => jsonStates().filter(x => x.state === 'subscribed').length > before, 'second subscribed');
        await pushLogs(dev1.id, [{ type: 'agent.log', msg: 'interop from dev1' }]);
        const m = await waitFor(() => jsonMessages().find(x => x.msg === 'interop from dev1'), 'dev1 line');
        assert.strictEqual(m.device_id, dev1.id);
    });

    await check('json: lines of devices not on the stream are not delivered', async () => {
        const devices = assertCollection(await api.devices.list());
        const other = devices.find(d => d.id !== dev0.id && d.id !== dev1.id);
        if (other) {
            await pushLogs(other.id, [{ type: 'server.log', msg: 'interop stranger' }]);
        }
        await pushLogs(dev1.id, [{ type: 'server.log', msg: 'interop barrier 1' }]);
        await waitFor(() => jsonMessages().some(x => x.msg === 'interop barrier 1'), 'barrier 1');
        assert.ok(!jsonMessages().some(x => x.msg === 'interop stranger'));
    });

    await check('json: removeDevice(id) -> state_change unsubscribed; its lines stop', async () => {
        await api.logStreams.removeDevice(streamA, dev0.id);
        const s = await waitFor(() => jsonStates().find(x => x.state === 'unsubscribed'), 'unsubscribed');
        if ('device_id' in s) {
            assert.strictEqual(s.device_id, dev0.id);
        }
        await pushLogs(dev0.id, [{ type: 'server.log', msg: 'interop after removal' }]);
        await pushLogs(dev1.id, [{ type: 'server.log', msg: 'interop barrier 2' }]);
        await waitFor(() => jsonMessages().some(x => x.msg === 'interop barrier 2'), 'barrier 2');
        await sleep(100);
        assert.ok(!jsonMessages().some(x => x.msg === 'interop after removal'),
            'a removed device\'s line was delivered');
    });

    await check('pushed lines also land in the device history (devices.getLogs)', async () => {
        const data = assertCollection(await api.devices.getLogs(dev0.id, 1, 100));
        const msgs = data.map(e => e.msg);
        assert.ok(msgs.includes('interop json line 1') && msgs.includes('interop after removal'),
            `history: ${JSON.stringify(msgs.slice(0, 10))}`);
    });

    await check('addDevice with an unknown device -> 404', () =>
        expectApiError(api.logStreams.addDevice(streamA, '0123456789abcdef'), { status: 404 }));

    // ---- stream B: format text; creating it closes A ------------------------------------
    const B = recorder();
    const streamB = await check('logStreams.create(text) for a second stream', async () => {
        const res = await api.logStreams.create(
            m => B.messages.push(m), s => B.states.push(s), e => B.errors.push(e), 'text');
        assert.notStrictEqual(res.data.id, streamA);
        return res.data.id;
    });

    await check('text: state_change "opened" (plain word)', async () => {
        await waitFor(() => B.states.length > 0, 'opened on stream B');
        assert.strictEqual(B.states[0], 'opened');
    });

    await check('the first stream received state_change {"state":"closed"}', async () => {
        await waitFor(() => jsonStates().some(x => x.state === 'closed'), 'closed on stream A');
        assert.strictEqual(jsonStates()[jsonStates().length - 1].state, 'closed', 'closed is the last state');
    });

    await check('the client\'s automatic reconnect to the closed stream gets a non-200 status', async () => {
        // eventsource reconnects ~1 s after the response ends; a 200 would resurrect the stream.
        const err = await waitFor(() => A.errors.find(e => e.statusCode), 'an errorHandler call with a status', 5000);
        assert.notStrictEqual(err.statusCode, 200);
        assert.ok(!A.states.slice(1).some(s => s.includes('opened')), 'stream A must not reopen');
        await api.logStreams.close(streamA);
    });

    await check('the closed stream is gone: addDevice -> 404', () =>
        expectApiError(api.logStreams.addDevice(streamA, dev0.id), { status: 404 }));

    await check('text: addDevice(id) -> "<device_id> subscribed"', async () => {
        await api.logStreams.addDevice(streamB, dev0.id);
        await waitFor(() => B.states.includes(`${dev0.id} subscribed`),
            `"${dev0.id} subscribed" (states so far: ${JSON.stringify(B.states)})`);
    });

    await check('text: a pushed line arrives as "<device_id> <ts> <env> <type> <msg>"', async () => {
        await pushLogs(dev0.id, [{ type: 'server.log', msg: 'interop text line with  spaces' }]);
        const line = await waitFor(() => B.messages.find(m => m.endsWith(' interop text line with  spaces')),
            `the text line (messages so far: ${JSON.stringify(B.messages.slice(-5))})`);
        const parts = line.split(' ');
        assert.strictEqual(parts[0], dev0.id);
        assert.ok(isIsoTimestamp(parts[1]), `ts: ${parts[1]}`);
        assert.ok(['development', 'production'].includes(parts[2]), `environment: ${parts[2]}`);
        assert.strictEqual(parts[2], 'development');
        assert.strictEqual(parts[3], 'server.log');
        assert.strictEqual(parts.slice(4).join(' '), 'interop text line with  spaces');
    });

    await check('text: removeDevice(MAC) -> "<device_id> unsubscribed"', async () => {
        await api.logStreams.removeDevice(streamB, dev0.attributes.mac_address);
        await waitFor(() => B.states.includes(`${dev0.id} unsubscribed`),
            `"${dev0.id} unsubscribed" (states so far: ${JSON.stringify(B.states)})`);
    });

    await check('a sixth device evicts the least recently added one (5 devices per stream)', async () => {
        await simControl('POST', '/_sim/devices', { count: 4 });
        const all = assertCollection(await api.devices.list(null, 1, 100));
        assert.ok(all.length >= 7, `seeded devices: ${all.length}`);
        const six = [dev0, dev1, ...all.filter(d => d.id !== dev0.id && d.id !== dev1.id).slice(0, 4)];
        for (const d of six.slice(0, 5)) {
            await api.logStreams.addDevice(streamB, d.id);
        }
        for (const d of six.slice(0, 5)) {
            await waitFor(() => B.states.filter(x => x === `${d.id} subscribed`).length > 0, `${d.id} subscribed`);
        }
        const unsubBefore = B.states.filter(x => x === `${dev0.id} unsubscribed`).length;
        await api.logStreams.addDevice(streamB, six[5].id);
        await waitFor(() => B.states.includes(`${six[5].id} subscribed`), 'sixth subscribed');
        await waitFor(() => B.states.filter(x => x === `${dev0.id} unsubscribed`).length > unsubBefore,
            `"${dev0.id} unsubscribed" for the evicted oldest device (states: ${JSON.stringify(B.states.slice(-4))})`);
        await pushLogs(dev0.id, [{ type: 'server.log', msg: 'interop evicted line' }]);
        await pushLogs(six[5].id, [{ type: 'server.log', msg: 'interop sixth line' }]);
        await waitFor(() => B.messages.some(m => m.endsWith(' interop sixth line')), 'the sixth device\'s line');
        await sleep(100);
        assert.ok(!B.messages.some(m => m.endsWith(' interop evicted line')), 'the evicted device is still streamed');
    });

    await check('stream B saw no errors; stream A only a non-200 reconnect error', async () => {
        assert.deepStrictEqual(B.errors.map(String), []);
        for (const e of A.errors) {
            assert.ok(e.statusCode && e.statusCode !== 200, `unexpected stream A error: ${e}`);
        }
        await api.logStreams.close(streamB);
    });

    done();
})();
