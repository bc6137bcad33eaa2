// A loss as a function of the model it is computed on: the training loop and the tuners decide
// which instance it runs on (the model, its shadow for L_V at new weights, an unrolled copy).
global using ModelLoss = System.Func<TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>, TorchSharp.torch.Tensor>;
