// Devices: list + filters (incl. unassigned), get by id / MAC / agent id, rename, assign and
// unassign through device groups, restart, logs, delete.
'use strict';

const {
    assert, check, done, expectApiError, isIsoTimestamp, assertCollection, assertResource, listAll,
    ids, loggedInApi, pushLogs,
} = require('./lib');

const DEV = 'development_devicegroup';
const UNASSIGNED = { 'filter[devicegroup.owner.id]': 'null' };

(async () => {
    const api = await check('login', () => loggedInApi());
    const me = (await api.accounts.get('me')).data;
    const listDevices = (filters) => listAll((f, n, s) => api.devices.list(f, n, s), filters);

    const devices = await check('devices.list() returns the seeded unassigned devices', async () => {
        const items = await listDevices();
        assert.ok(items.length >= 3, `expected at least 3 devices, got ${items.length}`);
        for (const raw of items) {
            const d = assertResource({ data: raw }, 'device');
            assert.ok(/^[0-9a-f]{16}$/.test(d.id), `device id format: ${d.id}`);
            assert.ok(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(d.attributes.mac_address),
                `mac_address: ${d.attributes.mac_address}`);
            assert.strictEqual(typeof d.attributes.device_online, 'boolean');
            for (const k of ['name', 'agent_id', 'imp_type', 'swversion', 'ip_address', 'free_memory', 'rssi']) {
                assert.ok(k in d.attributes, `attribute ${k} must be present`);
            }
            assert.ok(!('devicegroup' in d.relationships), 'unassigned device has no devicegroup key');
            assert.strictEqual(d.relationships.owner.id, me.id);
        }
        return items;
    });
    const [a, b, c] = devices;

    await check('list pagination with page size 2', async () => {
        const body = await api.devices.list(null, 1, 2);
        assert.strictEqual(assertCollection(body).length, 2);
        assert.ok('next' in body.links);
    });

    await check('filter[devicegroup.owner.id]=null lists only unassigned devices (all of them now)', async () =>
        assert.deepStrictEqual(ids(await listDevices(UNASSIGNED)), ids(devices)));

    await check('filter[owner.id]=me lists all devices', async () =>
        assert.deepStrictEqual(ids(await listDevices({ 'filter[owner.id]': me.id })), ids(devices)));

    await check('devices.get(id) and devices.get(mac) return the canonical device', async () => {
        for (const ident of [a.id, a.attributes.mac_address]) {
            const d = assertResource(await api.devices.get(ident), 'device');
            assert.strictEqual(d.id, a.id, `get(${ident})`);
            assert.strictEqual(d.attributes.mac_address, a.attributes.mac_address);
        }
    });

    await check('devices.get(unknown) -> 404', async () => {
        await expectApiError(api.devices.get('0123456789abcdef'), { status: 404 });
        await expectApiError(api.devices.get('no such device name'), { status: 404 });
    });

    await check('devices.update(id, {name}) renames the device', async () => {
        const d = assertResource(await api.devices.update(a.id, { name: 'kitchen' }), 'device');
        assert.strictEqual(d.id, a.id);
        assert.strictEqual(d.attributes.name, 'kitchen');
        assert.strictEqual((await api.devices.get(a.id)).data.attributes.name, 'kitchen');
    });

    await check('devices.update(mac, {name}) renames the device addressed by MAC', async () => {
        const d = assertResource(await api.devices.update(b.attributes.mac_address, { name: 'garage' }), 'device');
        assert.strictEqual(d.id, b.id);
        assert.strictEqual(d.attributes.name, 'garage');
    });

    const product = (await api.products.create({ name: 'Devices Product' })).data;
    const g1 = (await api.deviceGroups.create(product.id, DEV, { name: 'G1' })).data;
    const g2 = (await api.deviceGroups.create(product.id, DEV, { name: 'G2' })).data;

    await check('deviceGroups.addDevices(g1, id, mac) assigns both devices', async () => {
        await api.deviceGroups.addDevices(g1.id, a.id, b.attributes.mac_address);
        for (const dev of [a, b]) {
            const d = (await api.devices.get(dev.id)).data;
            assert.deepStrictEqual(d.relationships.devicegroup, { type: DEV, id: g1.id });
            if ('product' in d.relationships) {
                assert.strictEqual(d.relationships.product.id, product.id);
            }
        }
    });

    await check('re-adding an already assigned device is a no-op success', () =>
        api.deviceGroups.addDevices(g1.id, a.id));

    await check('list filters: devicegroup.id, product.id, devicegroup.type, unassigned', async () => {
        assert.deepStrictEqual(ids(await listDevices({ 'filter[devicegroup.id]': g1.id })), ids([a, b]));
        assert.deepStrictEqual(ids(await listDevices({ 'filter[product.id]': product.id })), ids([a, b]));
        assert.deepStrictEqual(ids(await listDevices({ 'filter[devicegroup.type]': DEV })), ids([a, b]));
        assert.deepStrictEqual(ids(await listDevices({ 'filter[devicegroup.type]': 'production_devicegroup' })), []);
        const unassigned = ids(await listDevices(UNASSIGNED));
        assert.ok(unassigned.includes(c.id) && !unassigned.includes(a.id) && !unassigned.includes(b.id),
            `unassigned filter: ${unassigned}`);
        assert.deepStrictEqual(ids(await listDevices({ 'filter[devicegroup.id]': g2.id })), []);
    });

    await check('all five filters combined (logical AND)', async () => {
        const items = await listDevices({
            'filter[owner.id]': me.id,
            'filter[product.id]': product.id,
            'filter[devicegroup.id]': g1.id,
            'filter[devicegroup.owner.id]': me.id,
            'filter[devicegroup.type]': DEV,
        });
        assert.deepStrictEqual(ids(items), ids([a, b]));
    });

    const agentId = await check('an assigned device has an agent; get(agent id) returns it', async () => {
        const d = (await api.devices.get(a.id)).data;
        assert.ok(typeof d.attributes.agent_id === 'string' && d.attributes.agent_id.length > 0,
            `agent_id of an assigned device: ${d.attributes.agent_id}`);
        const byAgent = assertResource(await api.devices.get(d.attributes.agent_id), 'device');
        assert.strictEqual(byAgent.id, a.id);
        return d.attributes.agent_id;
    });

    await check('devices.update(agent id, {name}) works too', async () => {
        const d = assertResource(await api.devices.update(agentId, { name: 'kitchen-2' }), 'device');
        assert.strictEqual(d.id, a.id);
        assert.strictEqual(d.attributes.name, 'kitchen-2');
    });

    await check('devices.restart() and conditionalRestart() by id, MAC and agent id', async () => {
        for (const ident of [a.id, a.attributes.mac_address, agentId]) {
            await api.devices.restart(ident);
            await api.devices.conditionalRestart(ident);
        }
    });

    await check('restarting an unassigned device fails', () => expectApiError(api.devices.restart(c.id)));

    await check('addDevices(g2, agent id) moves the device to the other group', async () => {
        await api.deviceGroups.addDevices(g2.id, agentId);
        const d = (await api.devices.get(a.id)).data;
        assert.deepStrictEqual(d.relationships.devicegroup, { type: DEV, id: g2.id });
        assert.deepStrictEqual(ids(await listDevices({ 'filter[devicegroup.id]': g1.id })), [b.id]);
    });

    await check('removeDevices(g1, null, id) unassigns: devicegroup key disappears', async () => {
        await api.deviceGroups.removeDevices(g1.id, null, b.id);
        const d = (await api.devices.get(b.id)).data;
        assert.ok(!('devicegroup' in d.relationships), `relationships: ${JSON.stringify(d.relationships)}`);
        assert.ok(ids(await listDevices(UNASSIGNED)).includes(b.id));
    });

    await check('removeDevices of a device not in the group -> 400 whose errors are all status "404"', async () => {
        const err = await expectApiError(api.deviceGroups.removeDevices(g1.id, null, c.id), { status: 400 });
        assert.ok(err.body.errors.every(e => e.status === '404'), JSON.stringify(err.body));
    });

    await check('addDevices with an unknown device fails', () =>
        expectApiError(api.deviceGroups.addDevices(g1.id, '0123456789abcdef')));

    await check('devices.getLogs() returns pushed lines, newest first, as plain objects', async () => {
        await pushLogs(a.id, [
            { type: 'server.log', msg: 'devices.js history 1' },
            { type: 'agent.log', msg: 'devices.js history 2' },
        ]);
        const body = await api.devices.getLogs(a.attributes.mac_address, 1, 100);
        const data = assertCollection(body, 'logs');
        const mine = data.filter(e => String(e.msg).startsWith('devices.js history'));
        assert.deepStrictEqual(mine.map(e => e.msg), ['devices.js history 2', 'devices.js history 1']);
        assert.deepStrictEqual(mine.map(e => e.type), ['agent.log', 'server.log']);
        for (const e of mine) {
            assert.ok(isIsoTimestamp(e.ts), `ts: ${e.ts}`);
        }
    });

    await check('devices.getLogs() pagination: page size 1 has next', async () => {
        const body = await api.devices.getLogs(a.id, 1, 1);
        assert.strictEqual(assertCollection(body).length, 1);
        assert.ok('next' in body.links);
    });

    await check('devices.getLogs() page 3 of size 5 holds entries 11-15 of the newest-first history', async () => {
        await pushLogs(c.id, Array.from({ length: 20 }, (_, i) => ({ type: 'server.log', msg: `paged #${i + 1}` })));
        const all = assertCollection(await api.devices.getLogs(c.id, 1, 100));
        const mine = all.filter(e => String(e.msg).startsWith('paged #')).map(e => e.msg);
        assert.deepStrictEqual(mine, Array.from({ length: 20 }, (_, i) => `paged #${20 - i}`));
        const page3 = assertCollection(await api.devices.getLogs(c.id, 3, 5));
        assert.deepStrictEqual(page3.map(e => e.msg), all.slice(10, 15).map(e => e.msg));
    });

    await check('deleting an assigned device fails', () => expectApiError(api.devices.delete(a.id)));

    await check('deleting an unassigned device removes it from the account', async () => {
        await api.devices.delete(c.id);
        await expectApiError(api.devices.get(c.id), { status: 404 });
        assert.ok(!ids(await listDevices()).includes(c.id));
    });

    done();
})();
