// Deployments: create, sha, tags, update, filters, min supported and flagged delete refusals,
// delete, deletion with the group, zombies.
'use strict';

const {
    assert, check, done, expectApiError, isIsoTimestamp, assertCollection, assertResource, listAll,
    ids, loggedInApi, simControl,
} = require('./lib');

const DEV = 'development_devicegroup';
const FLAGGED =
    'Resource Flagged: You cannot delete flagged deployments; set the flagged attribute to false and try again.';

(async () => {
    const api = await check('login', () => loggedInApi());
    const me = (await api.accounts.get('me')).data;
    const product = (await api.products.create({ name: 'Deploy Product' })).data;
    const dg = (await api.deviceGroups.create(product.id, DEV, { name: 'Deploy DG' })).data;
    const list = (filters) => listAll((f, n, s) => api.deployments.list(f, n, s), filters);

    const d1 = await check('deployments.create() returns the deployment with sha and attributes', async () => {
        const attrs = {
            device_code: 'server.log("Hello World, from your Device!");',
            agent_code: 'server.log("Hello World, from your Agent!");',
            description: 'first build',
            origin: 'interop-test',
            tags: ['RC1', 'v1.0', 'x_y-z*'],
            flagged: false,
        };
        const d = assertResource(await api.deployments.create(dg.id, DEV, attrs), 'deployment');
        assert.ok(/^[0-9a-f]{64}$/.test(d.attributes.sha), `sha: ${d.attributes.sha}`);
        assert.deepStrictEqual(d.attributes.tags, attrs.tags, 'tags round-trip in order');
        assert.strictEqual(d.attributes.description, 'first build');
        assert.strictEqual(d.attributes.origin, 'interop-test');
        assert.strictEqual(d.attributes.flagged, false);
        assert.ok(isIsoTimestamp(d.attributes.created_at), 'created_at');
        assert.deepStrictEqual(d.relationships.devicegroup, { type: DEV, id: dg.id });
        assert.strictEqual(d.relationships.product.id, product.id);
        assert.strictEqual(d.relationships.owner.id, me.id);
        const g = (await api.deviceGroups.get(dg.id)).data;
        assert.deepStrictEqual(g.relationships.min_supported_deployment, { type: 'deployment', id: d.id },
            'the first deployment of a group becomes its min supported deployment');
        return d;
    });

    await check('get() returns the code', async () => {
        const d = assertResource(await api.deployments.get(d1.id), 'deployment');
        assert.strictEqual(d.attributes.device_code, 'server.log("Hello World, from your Device!");');
        assert.strictEqual(d.attributes.agent_code, 'server.log("Hello World, from your Agent!");');
        assert.strictEqual(d.attributes.sha, d1.attributes.sha);
    });

    await check('get(unknown) -> 404', () =>
        expectApiError(api.deployments.get('aaaaaaaa-0000-0000-0000-000000000000'), { status: 404 }));

    const d2 = await check('create a flagged deployment with empty code; it becomes current', async () => {
        const d = assertResource(await api.deployments.create(dg.id, DEV,
            { device_code: '', agent_code: '', flagged: true, tags: ['RC2'] }), 'deployment');
        assert.strictEqual(d.attributes.flagged, true);
        assert.notStrictEqual(d.attributes.sha, d1.attributes.sha, 'different code, different sha');
        assert.strictEqual(d.attributes.origin, null, 'unset origin is present as null');
        const g = (await api.deviceGroups.get(dg.id)).data;
        assert.deepStrictEqual(g.relationships.current_deployment, { type: 'deployment', id: d.id });
        return d;
    });

    await check('update() description and tags', async () => {
        const d = assertResource(await api.deployments.update(d1.id,
            { description: 'renamed build', tags: ['RC1', 'final'] }), 'deployment');
        assert.strictEqual(d.attributes.description, 'renamed build');
        assert.deepStrictEqual(d.attributes.tags, ['RC1', 'final']);
        assert.strictEqual(d.attributes.sha, d1.attributes.sha, 'sha is immutable');
        assert.strictEqual(d.attributes.origin, 'interop-test', 'partial update keeps origin');
    });

    await check('list filters: devicegroup, product, owner, creator', async () => {
        const both = ids([d1, d2]);
        assert.deepStrictEqual(ids(await list({ 'filter[devicegroup.id]': dg.id })), both);
        assert.deepStrictEqual(ids(await list({ 'filter[product.id]': product.id })), both);
        assert.deepStrictEqual(ids(await list({ 'filter[owner.id]': me.id })), both);
        assert.deepStrictEqual(ids(await list({ 'filter[creator.id]': me.id })), both);
    });

    await check('list filters: flagged true / false / any', async () => {
        assert.deepStrictEqual(ids(await list({ 'filter[flagged]': 'true' })), [d2.id]);
        assert.deepStrictEqual(ids(await list({ 'filter[flagged]': 'false' })), [d1.id]);
        assert.deepStrictEqual(ids(await list({ 'filter[flagged]': 'any' })), ids([d1, d2]));
    });

    await check('list filters: sha', async () => {
        assert.deepStrictEqual(ids(await list({ 'filter[sha]': d1.attributes.sha })), [d1.id]);
        assert.deepStrictEqual(ids(await list({ 'filter[sha]': '0'.repeat(64) })), []);
    });

    await check('list filters: tags (comma-separated, all must match)', async () => {
        assert.deepStrictEqual(ids(await list({ 'filter[tags]': 'RC1' })), [d1.id]);
        assert.deepStrictEqual(ids(await list({ 'filter[tags]': 'RC1,final' })), [d1.id]);
        assert.deepStrictEqual(ids(await list({ 'filter[tags]': 'RC1,RC2' })), []);
        assert.deepStrictEqual(ids(await list({ 'filter[tags]': 'RC2' })), [d2.id]);
    });

    await check('list pagination: page size 1 has next, page 2 has none', async () => {
        const p1 = await api.deployments.list({ 'filter[devicegroup.id]': dg.id }, 1, 1);
        assert.strictEqual(assertCollection(p1).length, 1);
        assert.ok('next' in p1.links);
        const p2 = await api.deployments.list({ 'filter[devicegroup.id]': dg.id }, 2, 1);
        assert.strictEqual(assertCollection(p2).length, 1);
        assert.ok(!('next' in p2.links));
        assert.notStrictEqual(p1.data[0].id, p2.data[0].id);
    });

    await check('deleting a flagged deployment is refused (Resource Flagged)', () =>
        expectApiError(api.deployments.delete(d2.id), { message: FLAGGED }));

    await check('update flagged=true, then the older unflagged deployment is refused too', async () => {
        const d = (await api.deployments.update(d1.id, { flagged: true })).data;
        assert.strictEqual(d.attributes.flagged, true);
        await expectApiError(api.deployments.delete(d1.id), { message: FLAGGED });
        const back = (await api.deployments.update(d1.id, { flagged: false })).data;
        assert.strictEqual(back.attributes.flagged, false);
    });

    await check('the min supported deployment cannot be deleted (Deployment In Use)', () =>
        expectApiError(api.deployments.delete(d1.id), { status: 409 }));

    await check('delete an old unflagged deployment; get and delete again -> 404', async () => {
        await api.deviceGroups.updateMinSupportedDeployment(dg.id, d2.id);
        await api.deployments.delete(d1.id);
        await expectApiError(api.deployments.get(d1.id), { status: 404 });
        await expectApiError(api.deployments.delete(d1.id), { status: 404 });
        assert.deepStrictEqual(ids(await list({ 'filter[devicegroup.id]': dg.id })), [d2.id]);
    });

    await check('creating a deployment for an unknown device group fails', () =>
        expectApiError(api.deployments.create('bbbbbbbb-0000-0000-0000-000000000000', DEV,
            { device_code: '', agent_code: '' })));

    await check('deleting its group deletes the deployments', async () => {
        await api.deployments.update(d2.id, { flagged: false });
        await api.deviceGroups.delete(dg.id);
        await expectApiError(api.deployments.get(d2.id), { status: 404 });
        assert.deepStrictEqual(ids(await list({ 'filter[product.id]': product.id })), []);
    });

    await check('a zombie (no devicegroup, made by the control plane) is listed by product and can be deleted', async () => {
        const made = await simControl('POST', '/_sim/zombies', {
            data: {
                type: 'deployment',
                attributes: { device_code: 'zombie', agent_code: '', tags: ['old'] },
                relationships: { product: { type: 'product', id: product.id } },
            },
        });
        const z = assertResource(await api.deployments.get(made.data.id), 'deployment');
        assert.ok(!('devicegroup' in z.relationships), 'zombie has no devicegroup relationship');
        assert.strictEqual(z.relationships.product.id, product.id);
        assert.deepStrictEqual(z.attributes.tags, ['old']);
        assert.deepStrictEqual(ids(await list({ 'filter[product.id]': product.id })), [z.id]);
        await api.deployments.delete(z.id);
        await expectApiError(api.deployments.get(z.id), { status: 404 });
    });

    done();
})();
