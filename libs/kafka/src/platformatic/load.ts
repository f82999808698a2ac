// @platformatic/kafka is an ES module only; the CommonJS build loads it with require() of an ES
// module (Node >= 22.12 without a flag). 2.x declares Node ^22.22 || >= 24.6 and needs it: it
// calls Promise.withResolvers (Node >= 22) for every promise-returning call, so on an older Node
// the module loads but the first fetch or join throws. platformaticNodeProblem turns that into a
// startup error. We load it through Node's own require, not the caller's: jest's module registry
// (which also stands in for `node:module` inside a test) cannot require an ES module, and the e2e
// tests start the invalidator inside jest. process.getBuiltinModule hands out the real
// `node:module` either way. Loaded on first use, so a kafkajs-only process never reads it.
// The type import is erased.
import * as moduleFromRequire from 'node:module';
import type * as Platformatic from '@platformatic/kafka';
import { plugPlatformaticCodecs } from './codecs';

export type PlatformaticKafka = typeof Platformatic;

let loaded: PlatformaticKafka | undefined;

/** The library's engines (@platformatic/kafka 2.x): the LTS lines from 22.22 and 24.6. */
const SUPPORTED_NODE = '^22.22.0 || >= 24.6.0';

/** Why KAFKA_CLIENT=platformatic cannot run on this Node version, or undefined when it can. */
export function platformaticNodeProblem(nodeVersion: string = process.versions.node): string | undefined {
  const [major, minor] = nodeVersion.split('.').map(Number);
  const supported = (major === 22 && minor >= 22) || (major === 24 && minor >= 6) || major > 24;
  if (supported) return undefined;
  return `KAFKA_CLIENT=platformatic needs Node ${SUPPORTED_NODE} (@platformatic/kafka 2.x); this is Node ${nodeVersion}: upgrade Node or use KAFKA_CLIENT=kafkajs`;
}

export function platformaticKafka(): PlatformaticKafka {
  if (!loaded) {
    const getBuiltinModule = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    const nodeModule = (getBuiltinModule?.call(process, 'node:module') as typeof moduleFromRequire | undefined) ?? moduleFromRequire;
    const lib = nodeModule.createRequire(__filename)('@platformatic/kafka') as PlatformaticKafka;
    plugPlatformaticCodecs(lib.compressionsAlgorithms);
    loaded = lib;
  }
  return loaded;
}
