// @platformatic/kafka is an ES module only. Node >= 20.19 loads it through require() (1.x's
// engines: >= 20.19.4), so the CommonJS build can use it; we load it through Node's own require,
// not the caller's: jest's module registry (which also stands in for `node:module` inside a test)
// cannot require an ES module, and the e2e tests start the invalidator inside jest.
// process.getBuiltinModule (Node >= 20.16) hands out the real `node:module` either way.
// Loaded on first use, so a kafkajs-only process never reads it. The type import is erased.
import * as moduleFromRequire from 'node:module';
import type * as Platformatic from '@platformatic/kafka';
import { plugPlatformaticCodecs } from './codecs';

export type PlatformaticKafka = typeof Platformatic;

let loaded: PlatformaticKafka | undefined;

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
