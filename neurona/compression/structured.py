"""Structured pruning: remove whole convolution filters and Dense units, so that the layers really shrink.

Li et al. 2017 ("Pruning filters for efficient ConvNets") rank a convolution's filters by the L1 norm of
their weights, remove the smallest with their output channels, and remove the matching input channels of the
next layer: the model becomes a smaller dense model (fewer parameters, fewer FLOPs, a faster step on any
hardware), unlike unstructured sparsity, which needs sparse kernels to pay off. Dense units are ranked the
same way (the L1 norm of each unit's incoming weights).

``prune_filters(model, 0.5)`` does this for a Sequential model: every Dense/Conv1D/Conv2D layer but the last
(whose units are the model's outputs) keeps its ``1 - fraction`` strongest filters, and the channels follow
through the layers between two kernel layers that leave channels alone (activations, dropout, pooling) or act
per channel (BatchNormalization, whose statistics are sliced too) and through Flatten (a channels-last
``(..., C)`` map flattens to ``position * C + channel``). The result is a new, smaller model, to fine-tune.
"""

import numpy

from .. import layers as layers_lib
from ..models import Sequential
from ..models.cloning import copy_compile
from .transform import check_model

# layers through which channel c stays channel c
_CHANNEL_PRESERVING = (layers_lib.Dropout, layers_lib.Activation, layers_lib.MaxPooling1D, layers_lib.MaxPooling2D,
                       layers_lib.AveragePooling1D, layers_lib.AveragePooling2D, layers_lib.GlobalMaxPooling1D,
                       layers_lib.GlobalMaxPooling2D, layers_lib.GlobalAveragePooling1D,
                       layers_lib.GlobalAveragePooling2D)
_KERNEL_LAYERS = (layers_lib.Dense, layers_lib.Conv1D, layers_lib.Conv2D)


def filter_norms(kernel):
    """The L1 norm of each output channel (last axis) of a kernel."""
    return numpy.abs(kernel).reshape(-1, kernel.shape[-1]).sum(axis=0)


def prune_filters(model, fraction, layers=None):
    """A smaller copy of a Sequential ``model`` without the weakest ``fraction`` of its filters and units.

    Args:
        model: a built Sequential model.
        fraction: the fraction of each pruned layer's filters (or units) to remove, in [0, 1).
        layers: names of the layers to prune (default every Dense/Conv layer but the last).

    Returns:
        A new Sequential model (compiled like ``model`` if it was) with the same outputs' shape and fewer
        parameters; each pruned layer keeps ``max(1, round((1 - fraction) * n))`` of its ``n`` filters.
    """
    check_model(model, "prune_filters")
    if not isinstance(model, Sequential):
        raise TypeError(f"prune_filters takes a Sequential model (a layer's channels are followed to the next "
                        f"layer in order), got {type(model).__name__} {model.name!r}")
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 <= fraction < 1.0:
        raise ValueError(f"prune_filters: fraction must be in [0, 1), got {fraction!r}")
    stack = list(model.layers)
    kernel_positions = [i for i, layer in enumerate(stack) if isinstance(layer, _KERNEL_LAYERS)]
    targets = _targets(stack, kernel_positions, layers)
    new_layers, kept = [], None  # kept: the input channels of the current layer still present (None: all)
    for i, layer in enumerate(stack):
        config, weights = layer.get_config(), layer.get_weights()
        if kept is not None:
            weights, kept = _slice_inputs(layer, weights, kept)
        if i in targets:
            norms = filter_norms(weights[0])
            count = max(1, int(round((1.0 - fraction) * norms.size)))
            outputs = numpy.sort(numpy.argsort(-norms, kind="stable")[:count])
            weights = [weights[0][..., outputs]] + ([weights[1][outputs]] if len(weights) > 1 else [])
            config["units" if isinstance(layer, layers_lib.Dense) else "filters"] = count
            kept = outputs
        elif isinstance(layer, _KERNEL_LAYERS):
            kept = None
        new_layers.append((type(layer).from_config(config), weights))
    copy = Sequential([layers_lib.Input(model.input_shape[1:], dtype=model.input.dtype),
                       *[layer for layer, _ in new_layers]], name=model.name)
    for layer, weights in new_layers:
        layer.set_weights(weights)
    copy_compile(model, copy)
    return copy


def _targets(stack, kernel_positions, names):
    if not kernel_positions:
        raise ValueError("prune_filters: the model has no Dense or convolution layer")
    last = kernel_positions[-1]
    if names is None:
        return set(kernel_positions[:-1])
    names = [names] if isinstance(names, str) else list(names)
    by_name = {stack[i].name: i for i in kernel_positions}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"prune_filters: layers {unknown} are not Dense/Conv layers of the model; those are "
                         f"{sorted(by_name)}")
    if stack[last].name in names:
        raise ValueError(f"prune_filters: layer {stack[last].name!r} is the last kernel layer: its units are the "
                         "model's outputs and cannot be removed")
    return {by_name[n] for n in names}


def _slice_inputs(layer, weights, kept):
    """The layer's weights without the removed input channels, and the channels present after it."""
    if isinstance(layer, layers_lib.Dense):
        return [weights[0][kept, :], *weights[1:]], None
    if isinstance(layer, (layers_lib.Conv1D, layers_lib.Conv2D)):  # channels last, kernel (..., in, out)
        return [weights[0][..., kept, :], *weights[1:]], None
    if isinstance(layer, layers_lib.BatchNormalization) and layer.axis in (-1, len(layer.input_shape) - 1):
        return [w[kept] for w in weights], kept
    if isinstance(layer, _CHANNEL_PRESERVING):
        return weights, kept
    if isinstance(layer, layers_lib.Flatten):
        positions, channels = int(numpy.prod(layer.input_shape[1:-1])), layer.input_shape[-1]
        return weights, (numpy.arange(positions)[:, None] * channels + kept[None, :]).ravel()
    raise ValueError(f"prune_filters: cannot follow channels through layer {layer.name!r} "
                     f"({type(layer).__name__}); supported between kernel layers: BatchNormalization, Flatten, "
                     f"{', '.join(sorted(c.__name__ for c in _CHANNEL_PRESERVING))}")
