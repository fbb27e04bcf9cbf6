// Device groups: all seven types (factory fixtures with production/DUT targets), update,
// env_vars, filters, min_supported_deployment, restart, conditional restart, delete rules.
'use strict';

const {
    assert, check, done, expectApiError, isIsoTimestamp, assertCollection, assertResource, listAll,
    ids, loggedInApi, simControl,
} = require('./lib');

const DUPLICATE = 'Duplicate Resource: Devicegroups must have unique names.';
const FLAGGED_EXIST =
    'Flagged Deployments Exist: Cannot delete a devicegroup with flagged deployments; delete those first.';
const DEPENDENT = 'Dependent Devicegroups Exist: Cannot delete a product with associated devicegroups.';

const T = {
    development: 'development_devicegroup',
    preProduction: 'pre_production_devicegroup',
    production: 'production_devicegroup',
    preDut: 'pre_dut_devicegroup',
    dut: 'dut_devicegroup',
    preFactory: 'pre_factoryfixture_devicegroup',
    factory: 'factoryfixture_devicegroup',
};

(async () => {
    const api = await check('login', () => loggedInApi());
    const me = (await api.accounts.get('me')).data;

    const product = await check('create a product', async () =>
        assertResource(await api.products.create({ name: 'DG Product' }), 'product'));

    const groups = {};
    const createPlain = async (key, attrs) => {
        const d = assertResource(await api.deviceGroups.create(product.id, T[key], attrs), T[key]);
        assert.strictEqual(d.attributes.name, attrs.name);
        assert.deepStrictEqual(d.relationships.product, { type: 'product', id: product.id });
        assert.strictEqual(d.relationships.owner.id, me.id);
        assert.ok(isIsoTimestamp(d.attributes.created_at), 'created_at');
        assert.ok(!('current_deployment' in d.relationships), 'no current_deployment yet');
        assert.ok(!('min_supported_deployment' in d.relationships), 'no min_supported_deployment yet');
        groups[key] = d;
        return d;
    };

    await check('create development_devicegroup with env_vars', async () => {
        const d = await createPlain('development',
            { name: 'Dev', description: 'dev group', env_vars: { greeting: 'hello', count: 3 } });
        assert.strictEqual(d.attributes.description, 'dev group');
        assert.deepStrictEqual(d.attributes.env_vars, { greeting: 'hello', count: 3 });
        assert.strictEqual(d.attributes.region, null);
    });
    await check('create pre_production_devicegroup', () => createPlain('preProduction', { name: 'PreProd' }));
    await check('create production_devicegroup (load_code_after_blessing defaults to true)', async () => {
        const d = await createPlain('production', { name: 'Prod' });
        assert.strictEqual(d.attributes.load_code_after_blessing, true);
    });
    await check('create pre_dut_devicegroup', () => createPlain('preDut', { name: 'PreDut' }));
    await check('create dut_devicegroup', () => createPlain('dut', { name: 'Dut' }));

    const createFixture = async (key, name, prodKey, dutKey) => {
        const prodTarget = { type: T[prodKey], id: groups[prodKey].id };
        const dutTarget = { type: T[dutKey], id: groups[dutKey].id };
        const d = assertResource(
            await api.deviceGroups.create(product.id, T[key], { name }, prodTarget, dutTarget), T[key]);
        assert.deepStrictEqual(d.relationships.production_target, prodTarget);
        assert.deepStrictEqual(d.relationships.dut_target, dutTarget);
        groups[key] = d;
        return d;
    };
    await check('create pre_factoryfixture_devicegroup targeting pre_production + pre_dut', () =>
        createFixture('preFactory', 'PreFactory', 'preProduction', 'preDut'));
    await check('create factoryfixture_devicegroup targeting production + dut', () =>
        createFixture('factory', 'Factory', 'production', 'dut'));

    await check('get() returns each of the seven groups with its concrete type', async () => {
        for (const [key, g] of Object.entries(groups)) {
            const d = assertResource(await api.deviceGroups.get(g.id), T[key]);
            assert.strictEqual(d.attributes.name, g.attributes.name);
        }
        const dev = (await api.deviceGroups.get(groups.development.id)).data;
        assert.deepStrictEqual(dev.attributes.env_vars, { greeting: 'hello', count: 3 });
        const fac = (await api.deviceGroups.get(groups.factory.id)).data;
        assert.strictEqual(fac.relationships.production_target.id, groups.production.id);
        assert.strictEqual(fac.relationships.dut_target.id, groups.dut.id);
    });

    await check('duplicate group name within the product fails with Duplicate Resource', () =>
        expectApiError(api.deviceGroups.create(product.id, T.development, { name: 'Dev' }),
            { message: DUPLICATE }));

    await check('the same group name is allowed in another product', async () => {
        const other = (await api.products.create({ name: 'DG Other Product' })).data;
        const d = assertResource(
            await api.deviceGroups.create(other.id, T.development, { name: 'Dev' }), T.development);
        await api.deviceGroups.delete(d.id);
        await api.products.delete(other.id);
    });

    await check('get(unknown id) -> 404', () =>
        expectApiError(api.deviceGroups.get('ffffffff-0000-0000-0000-000000000000'), { status: 404 }));

    await check('list filter[product.id] returns the seven groups', async () => {
        const items = await listAll((f, n, s) => api.deviceGroups.list(f, n, s),
            { 'filter[product.id]': product.id });
        assert.deepStrictEqual(ids(items), ids(Object.values(groups)));
    });

    await check('list filter[type] returns only groups of that type', async () => {
        for (const key of Object.keys(T)) {
            const items = await listAll((f, n, s) => api.deviceGroups.list(f, n, s),
                { 'filter[type]': T[key], 'filter[product.id]': product.id });
            assert.deepStrictEqual(items.map(i => i.id), [groups[key].id], `filter[type]=${T[key]}`);
            assert.strictEqual(items[0].type, T[key]);
        }
    });

    await check('list filter[owner.id] + pagination (page size 3)', async () => {
        const body = await api.deviceGroups.list({ 'filter[owner.id]': me.id }, 1, 3);
        assert.strictEqual(assertCollection(body).length, 3);
        assert.ok('next' in body.links);
    });

    await check('update() name, description and env_vars of a development group', async () => {
        const d = assertResource(await api.deviceGroups.update(groups.development.id, T.development,
            { name: 'Dev Renamed', description: 'new text', env_vars: { greeting: 'bye' } }), T.development);
        assert.strictEqual(d.attributes.name, 'Dev Renamed');
        assert.strictEqual(d.attributes.description, 'new text');
        assert.deepStrictEqual(d.attributes.env_vars, { greeting: 'bye' });
        const again = (await api.deviceGroups.get(groups.development.id)).data;
        assert.strictEqual(again.attributes.name, 'Dev Renamed');
    });

    await check('update() renaming to a sibling name fails with Duplicate Resource', () =>
        expectApiError(api.deviceGroups.update(groups.development.id, T.development, { name: 'Prod' }),
            { message: DUPLICATE }));

    await check('update() load_code_after_blessing on a production group', async () => {
        const d = assertResource(await api.deviceGroups.update(groups.production.id, T.production,
            { load_code_after_blessing: false }), T.production);
        assert.strictEqual(d.attributes.load_code_after_blessing, false);
        assert.strictEqual(d.attributes.name, 'Prod', 'partial update keeps the name');
    });

    await check('update() production_target/dut_target of the factory fixture', async () => {
        const prod2 = assertResource(
            await api.deviceGroups.create(product.id, T.production, { name: 'Prod 2' }), T.production);
        const dut2 = assertResource(
            await api.deviceGroups.create(product.id, T.dut, { name: 'Dut 2' }), T.dut);
        groups.production2 = prod2;
        groups.dut2 = dut2;
        const d = assertResource(await api.deviceGroups.update(groups.factory.id, T.factory,
            { description: 'retargeted' },
            { type: T.production, id: prod2.id }, { type: T.dut, id: dut2.id }), T.factory);
        assert.deepStrictEqual(d.relationships.production_target, { type: T.production, id: prod2.id });
        assert.deepStrictEqual(d.relationships.dut_target, { type: T.dut, id: dut2.id });
        const again = (await api.deviceGroups.get(groups.factory.id)).data;
        assert.strictEqual(again.relationships.production_target.id, prod2.id);
    });

    const dev = groups.development;
    const deploy = async (n, extra = {}) => assertResource(await api.deployments.create(dev.id, T.development,
        Object.assign({ device_code: `server.log("device ${n}");`, agent_code: `server.log("agent ${n}");` }, extra)),
    'deployment');

    const d1 = await check('create deployment #1: becomes current and min supported deployment', async () => {
        const d = await deploy(1);
        const g = (await api.deviceGroups.get(dev.id)).data;
        assert.deepStrictEqual(g.relationships.current_deployment, { type: 'deployment', id: d.id });
        assert.deepStrictEqual(g.relationships.min_supported_deployment, { type: 'deployment', id: d.id });
        return d;
    });
    const d2 = await check('create deployment #2: becomes current; min supported stays #1', async () => {
        const d = await deploy(2);
        const g = (await api.deviceGroups.get(dev.id)).data;
        assert.strictEqual(g.relationships.current_deployment.id, d.id);
        assert.strictEqual(g.relationships.min_supported_deployment.id, d1.id);
        return d;
    });

    await check('updateMinSupportedDeployment(#1), the current one, is accepted', async () => {
        await api.deviceGroups.updateMinSupportedDeployment(dev.id, d1.id);
        const g = (await api.deviceGroups.get(dev.id)).data;
        assert.deepStrictEqual(g.relationships.min_supported_deployment, { type: 'deployment', id: d1.id });
    });
    await check('updateMinSupportedDeployment(#2) moves it forward', async () => {
        await api.deviceGroups.updateMinSupportedDeployment(dev.id, d2.id);
        const g = (await api.deviceGroups.get(dev.id)).data;
        assert.strictEqual(g.relationships.min_supported_deployment.id, d2.id);
    });
    await check('updateMinSupportedDeployment to an older deployment fails', () =>
        expectApiError(api.deviceGroups.updateMinSupportedDeployment(dev.id, d1.id)));
    await check('updateMinSupportedDeployment with another group\'s deployment fails', async () => {
        const foreign = assertResource(await api.deployments.create(groups.preProduction.id, T.preProduction,
            { device_code: '', agent_code: '' }), 'deployment');
        await expectApiError(api.deviceGroups.updateMinSupportedDeployment(dev.id, foreign.id));
    });
    await check('updateMinSupportedDeployment with an unknown deployment fails', () =>
        expectApiError(api.deviceGroups.updateMinSupportedDeployment(dev.id, 'nonexistent-deployment')));

    const devices = await check('assign two devices to the development group (addDevices)', async () => {
        const list = assertCollection(await api.devices.list());
        assert.ok(list.length >= 2, `need at least 2 devices, simulator has ${list.length}`);
        const pick = list.slice(0, 2);
        await api.deviceGroups.addDevices(dev.id, ...pick.map(d => d.id));
        const inGroup = await listAll((f, n, s) => api.devices.list(f, n, s), { 'filter[devicegroup.id]': dev.id });
        assert.deepStrictEqual(ids(inGroup), ids(pick));
        return pick;
    });

    await check('restartDevices() succeeds', () => api.deviceGroups.restartDevices(dev.id));
    await check('conditionalRestartDevices() succeeds', () => api.deviceGroups.conditionalRestartDevices(dev.id));
    await check('restartDevices() on an unknown group -> 404', () =>
        expectApiError(api.deviceGroups.restartDevices('ffffffff-0000-0000-0000-000000000001'), { status: 404 }));

    await check('delete refused while devices are assigned', () =>
        expectApiError(api.deviceGroups.delete(dev.id)));

    await check('delete refused while a flagged deployment exists', async () => {
        await api.deviceGroups.removeDevices(dev.id, null, ...devices.map(d => d.id));
        await api.deployments.update(d1.id, { flagged: true });
        await expectApiError(api.deviceGroups.delete(dev.id), { message: FLAGGED_EXIST });
        await api.deployments.update(d1.id, { flagged: false });
    });

    await check('delete refused for a group that is the target of a fixture group', async () => {
        await expectApiError(api.deviceGroups.delete(groups.production2.id));
        await expectApiError(api.deviceGroups.delete(groups.dut2.id));
    });

    await check('deleting the product with groups fails (Dependent Devicegroups Exist)', () =>
        expectApiError(api.products.delete(product.id), { message: DEPENDENT }));

    await check('delete the development group: its deployments are deleted with it', async () => {
        await api.deviceGroups.delete(dev.id);
        await expectApiError(api.deviceGroups.get(dev.id), { status: 404 });
        await expectApiError(api.deviceGroups.delete(dev.id), { status: 404 });
        await expectApiError(api.deployments.get(d1.id), { status: 404 });
        await expectApiError(api.deployments.get(d2.id), { status: 404 });
        const left = await listAll((f, n, s) => api.deployments.list(f, n, s), { 'filter[product.id]': product.id });
        assert.ok(!ids(left).includes(d1.id) && !ids(left).includes(d2.id), 'no zombies are left');
    });

    await check('a zombie deployment (control plane) has no devicegroup and does not block deletes', async () => {
        const made = await simControl('POST', '/_sim/zombies', {
            data: {
                type: 'deployment',
                attributes: { device_code: 'old', agent_code: '' },
                relationships: { product: { type: 'product', id: product.id } },
            },
        });
        const z = assertResource(await api.deployments.get(made.data.id), 'deployment');
        assert.ok(!('devicegroup' in z.relationships), 'zombie deployment has no devicegroup');
        assert.strictEqual(z.relationships.product.id, product.id);
    });

    await check('delete fixtures first, then their targets, then all the rest, then the product', async () => {
        await api.deviceGroups.delete(groups.factory.id);
        await api.deviceGroups.delete(groups.preFactory.id);
        for (const key of ['production', 'production2', 'dut', 'dut2', 'preProduction', 'preDut']) {
            await api.deviceGroups.delete(groups[key].id);
        }
        const left = await listAll((f, n, s) => api.deviceGroups.list(f, n, s), { 'filter[product.id]': product.id });
        assert.deepStrictEqual(left, []);
        await api.products.delete(product.id);
    });

    done();
})();
