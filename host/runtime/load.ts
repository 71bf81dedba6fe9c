/**
 * Loading a model for execution. `loadModel` is the one resolver every command and
 * `Session.create` use (host/zoo/models.ts): a zoo name, a .bnn file or a BMXNet symbol.
 */
import { CompiledModel } from '../compile/model';
import { loadNamedModel } from '../zoo/models';
import { LoadOptions } from './convert';

export { convertBmxnet, findParamsFile, isSymbolFile, LoadOptions, modelInputFiles, withModelMetadata } from './convert';

/** Load a model: a zoo name (resnet18-cifar|imagenet[-aK], bmxnet-mnist, FINN networks), a .bnn file, or a BMXNet symbol converted on the fly. */
export async function loadModel(spec: string, opts: LoadOptions = {}): Promise<CompiledModel> {
  return loadNamedModel(spec, opts);
}
