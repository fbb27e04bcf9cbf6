// Webhooks: create / get / update / list (+filter, pagination) / delete, invalid URL errors.
'use strict';

const {
    assert, check, done, expectApiError, assertCollection, assertResource, listAll, ids, loggedInApi,
} = require('./lib');

const DEV = 'development_devicegroup';
const PROD = 'production_devicegroup';
const INVALID_URL = 'Invalid URL: The provided URL is invalid.';
// Never contacted: the simulator does not deliver webhooks. Loopback discard port anyway.
const HOOK_URL = 'http://127.0.0.1:9/hook';

(async () => {
    const api = await check('login', () => loggedInApi());
    const product = (await api.products.create({ name: 'Hooks Product' })).data;
    const dev = (await api.deviceGroups.create(product.id, DEV, { name: 'Hooks Dev' })).data;
    const prod = (await api.deviceGroups.create(product.id, PROD, { name: 'Hooks Prod' })).data;
    const list = (filters) => listAll((f, n, s) => api.webhooks.list(f, n, s), filters);

    await check('webhooks.list() is empty at first', async () => {
        const body = await api.webhooks.list();
        assert.deepStrictEqual(assertCollection(body), []);
        assert.ok(!('next' in body.links));
    });

    const w1 = await check('create a deployment webhook on a development group', async () => {
        const d = assertResource(await api.webhooks.create(dev.id, DEV,
            { url: HOOK_URL, event: 'deployment', content_type: 'application/json' }), 'webhook');
        assert.strictEqual(d.attributes.url, HOOK_URL);
        assert.strictEqual(d.attributes.event, 'deployment');
        assert.strictEqual(d.attributes.content_type, 'application/json');
        assert.deepStrictEqual(d.relationships.devicegroup, { type: DEV, id: dev.id });
        return d;
    });

    const w2 = await check('create blessing and blinkup webhooks on a production group', async () => {
        const b = assertResource(await api.webhooks.create(prod.id, PROD,
            { url: HOOK_URL + '/blessing', event: 'blessing', content_type: 'application/x-www-form-urlencoded' }),
        'webhook');
        assert.deepStrictEqual(b.relationships.devicegroup, { type: PROD, id: prod.id });
        assert.strictEqual(b.attributes.content_type, 'application/x-www-form-urlencoded');
        const u = assertResource(await api.webhooks.create(prod.id, PROD,
            { url: HOOK_URL + '/blinkup', event: 'blinkup', content_type: 'application/json' }), 'webhook');
        assert.strictEqual(u.attributes.event, 'blinkup');
        return [b, u];
    });

    await check('webhooks.get(id) returns it', async () => {
        const d = assertResource(await api.webhooks.get(w1.id), 'webhook');
        assert.strictEqual(d.id, w1.id);
        assert.strictEqual(d.attributes.url, HOOK_URL);
        assert.strictEqual(d.relationships.devicegroup.type, DEV);
    });

    await check('webhooks.get(unknown) -> 404', () =>
        expectApiError(api.webhooks.get('cccccccc-0000-0000-0000-000000000000'), { status: 404 }));

    await check('update() url and content_type', async () => {
        const d = assertResource(await api.webhooks.update(w1.id,
            { url: HOOK_URL + '/v2', content_type: 'application/x-www-form-urlencoded' }), 'webhook');
        assert.strictEqual(d.attributes.url, HOOK_URL + '/v2');
        assert.strictEqual(d.attributes.content_type, 'application/x-www-form-urlencoded');
        assert.strictEqual(d.attributes.event, 'deployment');
        const again = (await api.webhooks.get(w1.id)).data;
        assert.strictEqual(again.attributes.url, HOOK_URL + '/v2');
    });

    await check('update() with only a url is partial', async () => {
        const d = (await api.webhooks.update(w1.id, { url: HOOK_URL + '/v3' })).data;
        assert.strictEqual(d.attributes.url, HOOK_URL + '/v3');
        assert.strictEqual(d.attributes.content_type, 'application/x-www-form-urlencoded');
    });

    await check('list() and filter[devicegroup.id]', async () => {
        assert.deepStrictEqual(ids(await list()), ids([w1, ...w2]));
        assert.deepStrictEqual(ids(await list({ 'filter[devicegroup.id]': dev.id })), [w1.id]);
        assert.deepStrictEqual(ids(await list({ 'filter[devicegroup.id]': prod.id })), ids(w2));
    });

    await check('list pagination: page size 2', async () => {
        const p1 = await api.webhooks.list(null, 1, 2);
        assert.strictEqual(assertCollection(p1).length, 2);
        assert.ok('next' in p1.links);
        const p2 = await api.webhooks.list(null, 2, 2);
        assert.strictEqual(assertCollection(p2).length, 1);
        assert.ok(!('next' in p2.links));
    });

    await check('create with an invalid URL fails with "Invalid URL"', () =>
        expectApiError(api.webhooks.create(dev.id, DEV,
            { url: 'invalidurl', event: 'deployment', content_type: 'application/json' }),
        { message: INVALID_URL }));

    await check('update with an invalid URL fails with "Invalid URL" and changes nothing', async () => {
        await expectApiError(api.webhooks.update(w1.id, { url: 'invalidurl' }), { message: INVALID_URL });
        assert.strictEqual((await api.webhooks.get(w1.id)).data.attributes.url, HOOK_URL + '/v3');
    });

    await check('create for an unknown device group fails', () =>
        expectApiError(api.webhooks.create('dddddddd-0000-0000-0000-000000000000', DEV,
            { url: HOOK_URL, event: 'deployment', content_type: 'application/json' })));

    await check('delete(); get -> 404; delete again -> 404', async () => {
        await api.webhooks.delete(w1.id);
        await expectApiError(api.webhooks.get(w1.id), { status: 404 });
        await expectApiError(api.webhooks.delete(w1.id), { status: 404 });
        assert.deepStrictEqual(ids(await list()), ids(w2));
    });

    done();
})();
