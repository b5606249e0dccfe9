<?php
// Router of the fake service (see FakeService.php). The built-in server
// handles one request at a time, so numbering by count is safe.
$dir = getenv('FAKE_DIR');
$number = count(glob("{$dir}/requests/*.json") ?: []) + 1;
$headers = array_change_key_case(getallheaders(), CASE_LOWER);
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
file_put_contents(sprintf('%s/requests/%06d.json', $dir, $number), json_encode([
    'method' => $_SERVER['REQUEST_METHOD'],
    'path' => $path,
    'headers' => $headers,
    'body' => file_get_contents('php://input'),
]));
$client = json_decode((string) @file_get_contents("{$dir}/client" . str_replace('/', '_', (string) $path)), true)
    ?? json_decode((string) @file_get_contents("{$dir}/client"), true);
if ((str_starts_with((string) $path, '/v1/client/') || $path === '/v1/diagnostics') && is_array($client)) {
    http_response_code($client['status']);
    header('Content-Type: application/json');
    echo $client['body'];
    return true;
}
$status = (int) (@file_get_contents("{$dir}/status") ?: 202);
http_response_code($status);
header('Content-Type: application/json');
if ($status >= 400) {
    echo '{"error":{"code":"set_by_test","message":"the test asked for this status"}}';
} elseif ($path === '/v1/decisions') {
    echo @file_get_contents("{$dir}/decision") ?: '{"return":null}';
} else {
    echo json_encode(['status' => 'accepted', 'id' => $headers['webhook-id'] ?? '']);
}
