// Auth: login by username and by email, wrong credentials, refresh-token exchange, refresh
// token list/delete, login keys (create with password, use with getAccessToken, update,
// delete), two-factor login with loginWithOTP, invalid access tokens, accounts.
'use strict';

const {
    assert, ImpCentralApi, env, check, done, expectApiError, isIsoTimestamp, assertCollection,
    assertResource,
} = require('./lib');

function assertTokenBody(body, withRefresh) {
    assert.ok(body && typeof body.access_token === 'string' && body.access_token.length > 0,
        `access_token missing: ${JSON.stringify(body)}`);
    assert.strictEqual(typeof body.expires_in, 'number', 'expires_in must be a number');
    assert.ok(body.expires_in > 0, 'expires_in > 0');
    assert.ok(isIsoTimestamp(body.expires_at), `expires_at: ${body.expires_at}`);
    assert.ok(new Date(body.expires_at).getTime() > Date.now(), 'expires_at in the future');
    if (withRefresh) {
        assert.ok(typeof body.refresh_token === 'string' && body.refresh_token.length > 0,
            'refresh_token missing');
    }
}

(async () => {
    const api = new ImpCentralApi(env.baseUrl);

    await check('the library reports the simulator endpoint', () =>
        assert.strictEqual(api.apiEndpoint, env.baseUrl));

    await check('calls before any login are refused by the library (no token)', async () => {
        // HttpHelper keeps the token in a static; nothing has set it yet in this process.
        await assert.rejects(api.products.list(), /access_token is not set/);
    });

    const byName = await check('auth.login(username, password) -> tokens', async () => {
        const body = await api.auth.login(env.user, env.password);
        assertTokenBody(body, true);
        return body;
    });

    const me = await check('the adopted access token works: accounts.get("me")', async () => {
        const d = assertResource(await api.accounts.get('me'), 'account');
        assert.strictEqual(d.attributes.username, env.user);
        return d;
    });

    await check('auth.login(email, password) -> tokens for the same account', async () => {
        const body = await api.auth.login(env.email, env.password);
        assertTokenBody(body, true);
        assert.notStrictEqual(body.refresh_token, byName.refresh_token);
        assert.strictEqual((await api.accounts.get('me')).data.id, me.id);
    });

    await check('wrong password -> 401 Invalid Credentials', () =>
        expectApiError(api.auth.login(env.user, 'definitely-wrong'), { status: 401, title: 'Invalid Credentials' }));

    await check('unknown user -> 401 Invalid Credentials', () =>
        expectApiError(api.auth.login('nobody-here', 'x'), { status: 401, title: 'Invalid Credentials' }));

    await check('accounts.get(real id) works; accounts.get(unknown) -> 404', async () => {
        assert.strictEqual((await api.accounts.get(me.id)).data.id, me.id);
        await expectApiError(api.accounts.get('eeeeeeee-0000-0000-0000-000000000000'), { status: 404 });
    });

    await check('accounts.list() contains the current account', async () => {
        const data = assertCollection(await api.accounts.list());
        assert.ok(data.some(a => a.id === me.id));
    });

    await check('auth.refreshAccessToken(refresh_token) -> new access token that works', async () => {
        const body = await api.auth.refreshAccessToken(byName.refresh_token);
        assertTokenBody(body, false);
        assert.strictEqual((await api.accounts.get('me')).data.id, me.id);
    });

    await check('refreshAccessToken(bogus) fails', () =>
        expectApiError(api.auth.refreshAccessToken('0'.repeat(64))));

    await check('an invalid access token -> 401 on API calls', async () => {
        const saved = await api.auth.refreshAccessToken(byName.refresh_token);
        api.auth.accessToken = 'not-a-valid-token';
        await expectApiError(api.products.list(), { status: 401 });
        api.auth.accessToken = saved.access_token;
        assertCollection(await api.products.list());
    });

    await check('auth.getRefreshTokens() lists the active refresh tokens', async () => {
        const data = assertCollection(await api.auth.getRefreshTokens());
        assert.ok(data.length >= 2, `two logins happened, got ${data.length} refresh tokens`);
        for (const t of data) {
            assert.ok(typeof t.id === 'string' && t.id.length > 0, `refresh token entry: ${JSON.stringify(t)}`);
        }
    });

    await check('deleteRefreshToken() for all; old refresh token no longer exchanges; access token still works',
        async () => {
            const before = assertCollection(await api.auth.getRefreshTokens());
            for (const t of before) {
                await api.auth.deleteRefreshToken(t.id);
            }
            assert.deepStrictEqual(assertCollection(await api.auth.getRefreshTokens()), []);
            await expectApiError(api.auth.refreshAccessToken(byName.refresh_token));
            await expectApiError(api.auth.deleteRefreshToken(before[0].id));
            assert.strictEqual((await api.accounts.get('me')).data.id, me.id);
        });

    const key = await check('accounts.createLoginKey(password, {description})', async () => {
        const d = assertResource(await api.accounts.createLoginKey(env.password, { description: 'interop key' }),
            'login_key');
        assert.strictEqual(d.attributes.description, 'interop key');
        return d;
    });

    await check('createLoginKey without attributes works too', async () => {
        const d = assertResource(await api.accounts.createLoginKey(env.password), 'login_key');
        assert.notStrictEqual(d.id, key.id);
        await api.accounts.deleteLoginKey(d.id, env.password);
    });

    await check('createLoginKey with a wrong password fails', () =>
        expectApiError(api.accounts.createLoginKey('wrong-password', { description: 'nope' })));

    await check('listLoginKeys() and getLoginKey()', async () => {
        const data = assertCollection(await api.accounts.listLoginKeys());
        assert.deepStrictEqual(data.map(k => k.id), [key.id]);
        const d = assertResource(await api.accounts.getLoginKey(key.id), 'login_key');
        assert.strictEqual(d.attributes.description, 'interop key');
        await expectApiError(api.accounts.getLoginKey('0000000000000000'), { status: 404 });
    });

    await check('updateLoginKey(id, password, {description})', async () => {
        const d = assertResource(await api.accounts.updateLoginKey(key.id, env.password, { description: 'renamed key' }),
            'login_key');
        assert.strictEqual(d.attributes.description, 'renamed key');
        await expectApiError(api.accounts.updateLoginKey(key.id, 'wrong-password', { description: 'x' }));
        assert.strictEqual((await api.accounts.getLoginKey(key.id)).data.attributes.description, 'renamed key');
    });

    await check('auth.getAccessToken(login key) -> access token that works', async () => {
        const fresh = new ImpCentralApi(env.baseUrl);
        const body = await fresh.auth.getAccessToken(key.id);
        assertTokenBody(body, false);
        assert.strictEqual((await fresh.accounts.get('me')).data.id, me.id);
        const k = (await fresh.accounts.getLoginKey(key.id)).data;
        if ('usages' in k.attributes) {
            assert.ok(k.attributes.usages >= 1, `usages: ${k.attributes.usages}`);
        }
    });

    await check('deleteLoginKey(id, password); the key no longer exchanges; delete again fails', async () => {
        await expectApiError(api.accounts.deleteLoginKey(key.id, 'wrong-password'));
        await api.accounts.deleteLoginKey(key.id, env.password);
        await expectApiError(api.auth.getAccessToken(key.id));
        await expectApiError(api.accounts.deleteLoginKey(key.id, env.password));
        assert.deepStrictEqual(assertCollection(await api.accounts.listLoginKeys()), []);
    });

    if (env.otpUser) {
        const loginToken = async () => {
            const err = await expectApiError(api.auth.login(env.otpUser, env.otpPassword), { status: 403 });
            const token = err.body.errors[0].meta && err.body.errors[0].meta.login_token;
            assert.ok(typeof token === 'string' && token.length > 0,
                `403 must carry errors[0].meta.login_token: ${JSON.stringify(err.body)}`);
            return token;
        };

        await check('OTP account: login(id, password) -> 403 with meta.login_token', () => loginToken());

        await check('OTP account: loginWithOTP(wrong otp, login_token) fails', async () => {
            const token = await loginToken();
            const wrong = env.otpCode === '000000' ? '111111' : '000000';
            await expectApiError(api.auth.loginWithOTP(wrong, token));
        });

        await check('OTP account: loginWithOTP(otp, login_token) -> tokens for that account', async () => {
            const token = await loginToken();
            const body = await api.auth.loginWithOTP(env.otpCode, token);
            assertTokenBody(body, true);
            const d = (await api.accounts.get('me')).data;
            assert.strictEqual(d.attributes.username, env.otpUser);
            assert.notStrictEqual(d.id, me.id);
        });

        await check('OTP account: wrong password -> 401, not 403', () =>
            expectApiError(api.auth.login(env.otpUser, 'wrong'), { status: 401 }));
    } else {
        console.log('# OTP checks skipped: IMPTSH_SIM_OTP_USER not set');
    }

    done();
})();
