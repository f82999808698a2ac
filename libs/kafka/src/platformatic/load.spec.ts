import { platformaticNodeProblem } from './load';

describe('platformaticNodeProblem (the Node versions @platformatic/kafka runs on)', () => {
  it('accepts Node 22 from 22.22 and Node 24 from 24.6 (the library engines), and later lines', () => {
    for (const version of ['22.22.0', '22.23.1', '24.6.0', '24.11.1', '25.0.0']) expect(platformaticNodeProblem(version)).toBeUndefined();
  });

  it('names KAFKA_CLIENT, the versions it needs and the running one for older Nodes', () => {
    for (const version of ['20.19.4', '22.21.1', '23.11.0', '24.5.0']) {
      const problem = platformaticNodeProblem(version);
      expect(problem).toContain('KAFKA_CLIENT=platformatic');
      expect(problem).toContain('22.22');
      expect(problem).toContain('24.6');
      expect(problem).toContain(`Node ${version}`);
    }
  });
});
