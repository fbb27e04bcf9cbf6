// Products: CRUD, duplicate names, pagination, filters, delete rules.
'use strict';

const {
    assert, env, check, done, expectApiError, isIsoTimestamp, assertCollection, assertResource,
    listAll, ids, loggedInApi,
} = require('./lib');

const DUPLICATE = 'Duplicate Resource: Products must have unique names.';
const DEPENDENT = 'Dependent Devicegroups Exist: Cannot delete a product with associated devicegroups.';

(async () => {
    const api = await check('login with username and password', () => loggedInApi());

    const me = await check('accounts.get("me") returns the account', async () => {
        const d = assertResource(await api.accounts.get('me'), 'account');
        assert.strictEqual(d.attributes.username, env.user);
        assert.strictEqual(d.attributes.email, env.email);
        assert.notStrictEqual(d.id, 'me', 'data.id must be the real account id');
        return d;
    });

    await check('products.list() is empty on a fresh simulator, links present, no next', async () => {
        const body = await api.products.list();
        assert.deepStrictEqual(assertCollection(body), []);
        assert.ok(!('next' in body.links), 'links.next must be absent on the last page');
    });

    const p1 = await check('products.create() returns the new product', async () => {
        const d = assertResource(
            await api.products.create({ name: 'Interop Product', description: 'first one' }),
            'product');
        assert.strictEqual(d.attributes.name, 'Interop Product');
        assert.strictEqual(d.attributes.description, 'first one');
        assert.ok(isIsoTimestamp(d.attributes.created_at), `created_at: ${d.attributes.created_at}`);
        assert.ok(isIsoTimestamp(d.attributes.updated_at), `updated_at: ${d.attributes.updated_at}`);
        assert.deepStrictEqual(d.relationships.owner, { type: 'account', id: me.id });
        return d;
    });

    await check('products.create() with an explicit owner id', async () => {
        const d = assertResource(
            await api.products.create({ name: 'Owned Product' }, me.id), 'product');
        assert.strictEqual(d.relationships.owner.id, me.id);
    });

    await check('products.get(id) returns the same product', async () => {
        const d = assertResource(await api.products.get(p1.id), 'product');
        assert.strictEqual(d.id, p1.id);
        assert.strictEqual(d.attributes.name, p1.attributes.name);
        assert.strictEqual(d.attributes.description, 'first one');
    });

    await check('products.get(unknown id) -> 404', () =>
        expectApiError(api.products.get('00000000-0000-0000-0000-000000000000'), { status: 404 }));

    await check('products.get(a product name) -> 404 (impt probes names with GET first)', () =>
        expectApiError(api.products.get('Interop Product'), { status: 404 }));

    await check('products.get() of impt-style probes ({me}{name}, spaces, MAC) -> 404', async () => {
        for (const probe of ['{me}{Interop Product}', 'name with spaces', '0c:2a:69:05:0d:62', 'a%2Fb']) {
            await expectApiError(api.products.get(probe), { status: 404 });
        }
    });

    await check('creating a product with a duplicate name fails with Duplicate Resource', () =>
        expectApiError(api.products.create({ name: 'Interop Product' }), { message: DUPLICATE }));

    await check('products.update() changes name and description', async () => {
        const d = assertResource(
            await api.products.update(p1.id, { name: 'Renamed Product', description: 'changed' }),
            'product');
        assert.strictEqual(d.id, p1.id);
        assert.strictEqual(d.attributes.name, 'Renamed Product');
        assert.strictEqual(d.attributes.description, 'changed');
        const again = assertResource(await api.products.get(p1.id), 'product');
        assert.strictEqual(again.attributes.name, 'Renamed Product');
        assert.strictEqual(again.attributes.description, 'changed');
    });

    await check('products.update() with only a description is a partial update', async () => {
        const d = assertResource(await api.products.update(p1.id, { description: 'partial' }), 'product');
        assert.strictEqual(d.attributes.name, 'Renamed Product');
        assert.strictEqual(d.attributes.description, 'partial');
    });

    await check('renaming a product to an existing name fails with Duplicate Resource', () =>
        expectApiError(api.products.update(p1.id, { name: 'Owned Product' }), { message: DUPLICATE }));

    const all = await check('create three more products (5 in total)', async () => {
        for (const n of [3, 4, 5]) {
            assertResource(await api.products.create({ name: `Paged Product ${n}` }), 'product');
        }
        const items = await listAll((f, n, s) => api.products.list(f, n, s));
        assert.strictEqual(items.length, 5);
        assert.strictEqual(new Set(ids(items)).size, 5);
        return items;
    });

    await check('list pagination: page size 2 gives pages of 2, 2, 1 with next until the last', async () => {
        const seen = [];
        for (const [page, expected, hasNext] of [[1, 2, true], [2, 2, true], [3, 1, false]]) {
            const body = await api.products.list(null, page, 2);
            const data = assertCollection(body);
            assert.strictEqual(data.length, expected, `page ${page} size`);
            assert.strictEqual('next' in body.links, hasNext, `page ${page}: links.next presence`);
            seen.push(...data.map(d => d.id));
        }
        assert.deepStrictEqual(seen.slice().sort(), ids(all), 'pages must not overlap or skip');
    });

    await check('list pagination: only pageSize given (library fills page 1)', async () => {
        const body = await api.products.list(null, null, 3);
        assert.strictEqual(assertCollection(body).length, 3);
        assert.ok('next' in body.links);
    });

    await check('list pagination: page past the end is empty without next', async () => {
        const body = await api.products.list(null, 9, 2);
        assert.deepStrictEqual(assertCollection(body), []);
        assert.ok(!('next' in body.links));
    });

    await check('list filter[owner.id] = me returns all five', async () => {
        const items = await listAll((f, n, s) => api.products.list(f, n, s), { 'filter[owner.id]': me.id });
        assert.deepStrictEqual(ids(items), ids(all));
    });

    await check('deleting a product that has device groups fails (Dependent Devicegroups Exist)', async () => {
        await api.deviceGroups.create(p1.id, 'development_devicegroup', { name: 'Blocker' });
        await expectApiError(api.products.delete(p1.id), { message: DEPENDENT });
    });

    await check('products.delete() then get -> 404 and delete again -> 404', async () => {
        const victim = all.find(p => p.attributes.name === 'Paged Product 5');
        await api.products.delete(victim.id);
        await expectApiError(api.products.get(victim.id), { status: 404 });
        await expectApiError(api.products.delete(victim.id), { status: 404 });
        const items = await listAll((f, n, s) => api.products.list(f, n, s));
        assert.strictEqual(items.length, 4);
    });

    await check('10 concurrent creates and 20 concurrent gets all succeed (impt uses up to 5 at once)', async () => {
        const created = await Promise.all(Array.from({ length: 10 },
            (_, i) => api.products.create({ name: `Concurrent ${i}` })));
        const newIds = created.map(r => assertResource(r, 'product').id);
        assert.strictEqual(new Set(newIds).size, 10);
        const got = await Promise.all([...newIds, ...newIds].map(id => api.products.get(id)));
        assert.deepStrictEqual(got.map(r => r.data.id), [...newIds, ...newIds]);
        const items = await listAll((f, n, s) => api.products.list(f, n, s));
        assert.strictEqual(items.length, 14);
    });

    done();
})();
