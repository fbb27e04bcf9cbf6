// A stand-in for one `impt product list` process, for the one-shot benchmark.
//
// impt itself cannot be installed here (the npm registry has no `imp-central-impt`), so this
// does what impt does per process with the library impt is built on: start node, load the
// official `imp-central-api` client, read the Auth File (the local one, else the global one),
// refresh the access token first when it expires within 3 minutes and save it (as impt does),
// list every Product page by page, fetch the current account (an Owner is shown only when it
// is someone else) and print impt's output. It loads none of impt's own code (its commands,
// yargs, its output helpers), so if anything it is faster than impt.
//
// Usage: node bench/impt_standin.js   (in the directory whose Auth File it uses)
// IMPT_STANDIN_NODE_MODULES: where imp-central-api is (default: tests/interop/node_modules).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

const modules = process.env.IMPT_STANDIN_NODE_MODULES ||
    path.join(__dirname, '..', 'tests', 'interop', 'node_modules');
const ImpCentralApi = require(path.join(modules, 'imp-central-api'));

const REFRESH_MARGIN_MS = 3 * 60 * 1000;
const PAGE_SIZE = 100;

function authFile() {
    const local = path.join(process.cwd(), '.impt.auth');
    return fs.existsSync(local) ? local : path.join(os.homedir(), '.impt.auth');
}

function fail(message) {
    console.log(`Error: ${message}`);
    console.log('IMPT COMMAND FAILS');
    process.exit(1);
}

async function login(api, file) {
    const auth = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (Date.parse(auth.expiresAt) - Date.now() < REFRESH_MARGIN_MS) {
        if (!auth.refreshToken) {
            fail('Access token is expired.');
        }
        const fresh = await api.auth.refreshAccessToken(auth.refreshToken);
        auth.accessToken = fresh.access_token;
        auth.expiresAt = fresh.expires_at;
        fs.writeFileSync(file, JSON.stringify(auth, null, 2), { mode: 0o600 });
    }
    api.auth.accessToken = auth.accessToken;
}

async function allProducts(api) {
    const products = [];
    for (let page = 1; ; page++) {
        const body = await api.products.list(null, page, PAGE_SIZE);
        products.push(...body.data);
        if (!body.links || !body.links.next || body.data.length === 0) {
            return products;
        }
    }
}

(async () => {
    const file = authFile();
    if (!fs.existsSync(file)) {
        fail('Auth File is not found.');
    }
    const api = new ImpCentralApi(JSON.parse(fs.readFileSync(file, 'utf8')).endpoint);
    await login(api, file);
    const products = await allProducts(api);
    if (products.length === 0) {
        console.log('No Products are found.');
    } else {
        const me = (await api.accounts.get('me')).data.id;
        console.log(`Product list (${products.length} items):`);
        for (const product of products) {
            console.log('Product: ');
            console.log(`  id:   ${product.id}`);
            console.log(`  name: ${product.attributes.name}`);
            const owner = product.relationships && product.relationships.owner;
            if (owner && owner.id !== me) {
                console.log('  Owner: ');
                console.log(`    id: ${owner.id}`);
            }
        }
    }
    console.log('IMPT COMMAND SUCCEEDS');
})().catch((err) => fail(err.message || String(err)));
