// A local HTTP server that records every request it gets (method, path, headers, body) and
// answers through a handler: a stand-in for an API the tests cannot reach (the Fastly and
// Cloudflare purge APIs), for a team's target, or for an internal host a loader URL must never
// reach. Binds a loopback address given by the test (127.0.0.x) on a free port.
import { createServer, IncomingHttpHeaders, ServerResponse } from 'node:http';

export interface RecordedRequest {
  method: string;
  /** The request target as received (path and query). */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RecordingServer {
  /** e.g. http://127.0.0.2:41234 */
  url: string;
  host: string;
  port: number;
  seen: RecordedRequest[];
  close(): Promise<void>;
}

export type Answer = (req: RecordedRequest, res: ServerResponse) => void;

export const answerJson =
  (status: number, body: unknown): Answer =>
  (_req, res) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

export async function startRecordingServer(host: string, answer: Answer): Promise<RecordingServer> {
  const seen: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      seen.push(recorded);
      answer(recorded, res);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${host}:${port}`,
    host,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
