// The addon's PHP floor, checked with the real interpreters (WebAssembly
// builds of PHP 7.2 and 8.1 from @php-wasm/node), not with the machine's
// newer PHP:
//
// - PHP 8.1, the floor (WHMCS 8.6+): every file parses; every class loads;
//   every global function the addon calls exists in 8.1 (or is WHMCS's);
//   the addon registers its hooks and configures itself.
// - PHP 7.2, WHMCS 8.0's floor: the files WHMCS loads before the addon can
//   check its floor (puente.php, hooks.php, action.php, requirements.php,
//   lib/autoload.php) parse, register no hook, and refuse activation with
//   the reason instead of a parse error that would stop WHMCS.
// - WHMCS 8.5 on PHP 8.1: activation is refused, naming WHMCS 8.6.
// - The checker itself: syntax newer than each floor fails it.
//
// Run by `make test` (php-shim/tests/floor, installed by
// scripts/install-test-deps.sh). Exit code 1 on any failure.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNodeRuntime } from '@php-wasm/node';
import { PHP } from '@php-wasm/universal';

const here = path.dirname(fileURLToPath(import.meta.url));
const addon = path.resolve(here, '../../modules/addons/puente');
const ENTRY_FILES = ['requirements.php', 'puente.php', 'hooks.php', 'action.php', 'lib/autoload.php'];
// WHMCS's own functions, which the addon calls where WHMCS defines them.
const WHMCS_FUNCTIONS = ['add_hook', 'logModuleCall', 'logActivity', 'localAPI', 'generate_token', 'check_token'];

let failures = 0;
function check(ok, what) {
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
    if (!ok) {
        failures++;
    }
}

/** Every .php file of the addon, relative to its folder. */
function phpFiles(dir = addon, prefix = '') {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const relative = prefix + entry.name;
        if (entry.isDirectory()) {
            return phpFiles(path.join(dir, entry.name), relative + '/');
        }
        return entry.name.endsWith('.php') ? [relative] : [];
    });
}

/** An interpreter of `version` with the addon copied to /addon. */
async function interpreter(version) {
    const php = new PHP(await loadNodeRuntime(version));
    for (const file of phpFiles()) {
        php.mkdir(path.posix.dirname('/addon/' + file));
        php.writeFile('/addon/' + file, fs.readFileSync(path.join(addon, file)));
    }
    return php;
}

/** Runs PHP code; its output, or the error it died with. */
async function run(php, code) {
    try {
        const response = await php.run({ code });
        return response.text + response.errors;
    } catch (error) {
        return `FATAL ${error.message}`;
    }
}

/** Parse errors of `files` (addon paths, or [name, source] pairs). */
async function parseErrors(php, files) {
    const errors = [];
    for (const file of files) {
        const [name, source] = Array.isArray(file) ? file : [file, null];
        if (source !== null) {
            php.writeFile('/probe.php', source);
        }
        const target = source !== null ? '/probe.php' : '/addon/' + name;
        const answer = await run(php, `<?php try { token_get_all(file_get_contents('${target}'), TOKEN_PARSE); echo 'parsed'; }
            catch (\\ParseError $e) { echo 'line ', $e->getLine(), ': ', $e->getMessage(); }`);
        if (answer.trim() !== 'parsed') {
            errors.push(`${name} ${answer.trim()}`);
        }
    }
    return errors;
}

// The stand-in of WHMCS the entry files meet: hooks are collected.
const STUBS = `define('WHMCS', true);
    $GLOBALS['registered'] = [];
    function add_hook($point, $priority, $callback) { $GLOBALS['registered'][] = $point; }
    function logModuleCall() {}
    function logActivity() {}`;

const php81 = await interpreter('8.1');
const php72 = await interpreter('7.2');

// The checker sees syntax newer than each floor.
check((await parseErrors(php81, [['readonly class (8.2)', '<?php readonly class A {}']])).length === 1,
    'PHP 8.1 refuses a readonly class (PHP 8.2 syntax)');
check((await parseErrors(php81, [['typed constant (8.3)', '<?php class A { const string B = "b"; }']])).length === 1,
    'PHP 8.1 refuses a typed class constant (PHP 8.3 syntax)');
check((await parseErrors(php72, [['match (8.0)', '<?php $a = match (1) { 1 => 2 };']])).length === 1,
    'PHP 7.2 refuses match (PHP 8.0 syntax)');
check((await parseErrors(php72, [['arrow function (7.4)', '<?php $f = fn ($x) => $x;']])).length === 1,
    'PHP 7.2 refuses an arrow function (PHP 7.4 syntax)');

// PHP 8.1: everything.
const files = phpFiles();
const errors81 = await parseErrors(php81, files);
check(errors81.length === 0, `PHP 8.1 parses all ${files.length} files of the addon ${errors81.join('; ')}`);

const loaded = await run(php81, `<?php ${STUBS}
    require '/addon/puente.php';
    require '/addon/hooks.php';
    $classes = 0;
    foreach (glob('/addon/lib/*.php') as $file) {
        $name = basename($file, '.php');
        if ($name === 'autoload') { continue; }
        $class = 'WHMCS\\\\Module\\\\Addon\\\\Puente\\\\' . $name;
        if (!class_exists($class) && !interface_exists($class)) { echo "missing {$class}\\n"; }
        $classes++;
    }
    $config = puente_config();
    echo count($GLOBALS['registered']), ' hooks, ', $classes, ' classes, ', count($config['fields']), ' settings, version ', $config['version'];`);
check(/^\d+ hooks, \d+ classes, \d+ settings, version \d/.test(loaded.trim()) && !/^0 hooks/.test(loaded)
    && !loaded.includes('missing'), `PHP 8.1 loads every class and registers the hooks: ${loaded.trim()}`);

const unknown = await run(php81, `<?php ${STUBS}
    require '/addon/puente.php';
    $whmcs = ${JSON.stringify(WHMCS_FUNCTIONS).replace(/"/g, "'")};
    $unknown = [];
    foreach (new RecursiveIteratorIterator(new RecursiveDirectoryIterator('/addon', FilesystemIterator::SKIP_DOTS)) as $file) {
        if (substr((string) $file, -4) !== '.php') { continue; }
        $tokens = array_values(array_filter(PhpToken::tokenize(file_get_contents((string) $file)),
            static fn ($token) => !$token->isIgnorable()));
        foreach ($tokens as $at => $token) {
            $next = $tokens[$at + 1] ?? null;
            $before = $tokens[$at - 1] ?? null;
            if (!$token->is([T_STRING, T_NAME_FULLY_QUALIFIED]) || $next === null || $next->text !== '(') { continue; }
            if ($before !== null && $before->is([T_OBJECT_OPERATOR, T_NULLSAFE_OBJECT_OPERATOR, T_DOUBLE_COLON, T_FUNCTION, T_NEW, T_CONST])) { continue; }
            $name = ltrim($token->text, '\\\\');
            if (str_contains($name, '\\\\') || in_array($name, $whmcs, true) || function_exists($name)) { continue; }
            $unknown[$name] = basename((string) $file);
        }
    }
    foreach ($unknown as $name => $file) { echo "{$name} ({$file}) "; }`);
check(unknown.trim() === '', `every function the addon calls exists in PHP 8.1 or is WHMCS's ${unknown.trim()}`);

const oldWhmcs = await run(php81, `<?php ${STUBS}
    $GLOBALS['CONFIG'] = ['Version' => '8.5.1-release.1'];
    require '/addon/puente.php';
    require '/addon/hooks.php';
    $activated = puente_activate();
    echo $activated['status'], ' | ', count($GLOBALS['registered']), ' | ', $activated['description'];`);
check(oldWhmcs.startsWith('error | 0 | ') && oldWhmcs.includes('WHMCS 8.6.0') && oldWhmcs.includes('WHMCS 8.5.1-release.1'),
    `WHMCS 8.5 on PHP 8.1: activation refused with the reason, no hook registered: ${oldWhmcs.trim()}`);

// PHP 7.2: the files WHMCS loads before the floor is checked.
const errors72 = await parseErrors(php72, ENTRY_FILES);
check(errors72.length === 0, `PHP 7.2 parses ${ENTRY_FILES.join(', ')} ${errors72.join('; ')}`);

const refused = await run(php72, `<?php ${STUBS}
    require '/addon/puente.php';
    require '/addon/hooks.php';
    $config = puente_config();
    $activated = puente_activate();
    ob_start();
    puente_output([]);
    $page = ob_get_clean();
    $client = puente_clientarea([]);
    echo PHP_VERSION, ' | ', count($GLOBALS['registered']), ' | ', $activated['status'], ' | ', $client['templatefile'],
        ' | ', strpos($page, 'alert-danger') !== false ? 'page explains' : 'page silent', ' | ', $config['description'];`);
check(/^7\.2\.\d+\S* \| 0 \| error \| unavailable \| page explains \| puente necesita PHP 8\.1\.0/.test(refused.trim())
    && refused.includes('puente needs PHP 8.1.0'),
    `PHP 7.2: no hook registered, activation refused with the reason: ${refused.trim()}`);

console.log(failures === 0 ? 'PHP floor: all checks passed' : `PHP floor: ${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
