// Error paths the JS client surfaces, triggered through the simulator's fault injection:
// compile errors on deployment create, 5xx and 429 responses, and a dropped log stream
// connection (the client reconnects and must be refused with a non-200 status).
'use strict';

const {
    assert, check, done, expectApiError, assertCollection, assertResource, waitFor, loggedInApi,
    simControl,
} = require('./lib');

const DEV = 'development_devicegroup';

(async () => {
    const api = await check('login', () => loggedInApi());
    const product = (await api.products.create({ name: 'Faults Product' })).data;
    const dg = (await api.deviceGroups.create(product.id, DEV, { name: 'Faults DG' })).data;

    await check('compile error: deployments.create -> 400 Compilation Error with CX005 and locations', async () => {
        await simControl('POST', '/_sim/faults', { compile_error: true });
        const err = await expectApiError(api.deployments.create(dg.id, DEV,
            { device_code: 'server.log("x")', agent_code: '' }), { status: 400, title: 'Compilation Error' });
        const e = err.body.errors[0];
        assert.strictEqual(e.status, '400');
        assert.strictEqual(e.code, 'CX005');
        assert.ok(Array.isArray(e.meta) && e.meta.length > 0, `meta must list locations: ${JSON.stringify(e)}`);
        for (const loc of e.meta) {
            assert.ok(['device_code', 'agent_code'].includes(loc.file), `file: ${loc.file}`);
            assert.ok(Number.isInteger(loc.row) && loc.row >= 1, `row: ${loc.row}`);
            assert.ok(Number.isInteger(loc.column) && loc.column >= 1, `column: ${loc.column}`);
            assert.strictEqual(typeof loc.text, 'string');
        }
    });

    await check('after the one-shot compile error, the same create succeeds', async () => {
        assertResource(await api.deployments.create(dg.id, DEV,
            { device_code: 'server.log("x")', agent_code: '' }), 'deployment');
    });

    await check('injected 503 surfaces as ImpCentralApiError with the status; next call succeeds', async () => {
        await simControl('POST', '/_sim/faults', { status: 503, count: 1 });
        await expectApiError(api.products.list(), { status: 503 });
        assertCollection(await api.products.list());
    });

    await check('injected 429 surfaces as ImpCentralApiError 429 (the library does not retry)', async () => {
        await simControl('POST', '/_sim/faults', { status: 429, count: 1, retry_after: 1 });
        await expectApiError(api.products.get(product.id), { status: 429 });
        assertResource(await api.products.get(product.id), 'product');
    });

    await check('a dropped stream connection: the client reconnects and is refused (non-200)', async () => {
        const states = [];
        const errors = [];
        const res = await api.logStreams.create(() => {}, s => states.push(s), e => errors.push(e), 'json');
        await waitFor(() => states.length > 0, 'opened');
        await simControl('POST', '/_sim/faults', { drop_streams: true });
        const err = await waitFor(() => errors.find(e => e.statusCode), 'errorHandler with a status', 5000);
        assert.notStrictEqual(err.statusCode, 200);
        await api.logStreams.close(res.data.id);
    });

    await check('a new stream can be created after the drop', async () => {
        const states = [];
        const res = await api.logStreams.create(() => {}, s => states.push(s), null, 'json');
        await waitFor(() => states.some(s => JSON.parse(s).state === 'opened'), 'opened');
        await api.logStreams.close(res.data.id);
    });

    done();
})();
