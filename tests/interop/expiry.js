// Access-token expiry (run against a simulator started with a short token lifetime, given in
// IMPTSH_SIM_TOKEN_TTL seconds): calls answer 401 once the token has expired, and the refresh
// token / login key flows the README describes obtain a working token again.
'use strict';

const {
    assert, ImpCentralApi, env, check, done, expectApiError, assertCollection, sleep,
} = require('./lib');

const TTL = Number(process.env.IMPTSH_SIM_TOKEN_TTL || 0);

(async () => {
    assert.ok(TTL > 0 && TTL <= 10, 'IMPTSH_SIM_TOKEN_TTL (1..10 s) is required');
    const api = new ImpCentralApi(env.baseUrl);

    const login = await check('login reports the short lifetime in expires_in / expires_at', async () => {
        const body = await api.auth.login(env.user, env.password);
        assert.ok(body.expires_in <= TTL, `expires_in ${body.expires_in} > ${TTL}`);
        const left = new Date(body.expires_at).getTime() - Date.now();
        assert.ok(left <= TTL * 1000 + 2000, `expires_at is ${left} ms away`);
        return body;
    });

    const key = await check('the token works before it expires; create a login key', async () => {
        assertCollection(await api.products.list());
        return (await api.accounts.createLoginKey(env.password, { description: 'expiry' })).data.id;
    });

    await check('after expires_in the same token gets 401', async () => {
        await sleep(TTL * 1000 + 500);
        await expectApiError(api.products.list(), { status: 401 });
    });

    await check('refreshAccessToken(refresh_token) gives a working token', async () => {
        await api.auth.refreshAccessToken(login.refresh_token);
        assertCollection(await api.products.list());
    });

    await check('after it expires too, getAccessToken(login key) gives a working token', async () => {
        await sleep(TTL * 1000 + 500);
        await expectApiError(api.products.list(), { status: 401 });
        await api.auth.getAccessToken(key);
        assertCollection(await api.products.list());
    });

    done();
})();
