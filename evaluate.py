"""Evaluate a saved checkpoint on its test set, without retraining: accuracy per class and confusion matrix.

Read this file to see how little it takes to reuse a trained model: the checkpoint alone rebuilds
it and says which dataset and normalisation it was trained with. The numbers are computed by the
same code as at the end of training, so they agree exactly.

    python evaluate.py checkpoints/cnn.pt
"""

import argparse
from pathlib import Path

import common
import files
import predict
import report
import training


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("checkpoint", type=Path, nargs="?", default=common.default_checkpoint_path("cnn", "mnist"),
                        help="a checkpoint written by train_cnn.py or train_mlp.py")
    parser.add_argument("--data-dir", default="data", help="where the dataset is, or is downloaded to")
    parser.add_argument("--device", choices=common.DEVICES, default="auto")
    parser.add_argument("--no-mistakes", action="store_true", help="do not save a picture of the test mistakes")
    args = parser.parse_args(argv)

    checkpoint = common.load_checkpoint(args.checkpoint)
    device = common.pick_device(args.device)
    model = predict.model_from_checkpoint(checkpoint).to(device)
    if checkpoint["dataset"] not in common.DATASETS:
        raise common.UserError(f"unknown dataset {checkpoint['dataset']!r} in {args.checkpoint}")
    if not args.no_mistakes:  # the picture goes beside the checkpoint: fail now if it cannot
        mistakes = report.beside(args.checkpoint, "mistakes.png")
        files.check_writable(mistakes)
        files.check_not_clobbering([mistakes], advice="move it, or add --no-mistakes")

    # The test images, normalised with the training statistics stored in the checkpoint; a trial
    # run (--limit) was tested on its first images only.
    images, labels = common.read_dataset(checkpoint["dataset"], args.data_dir, train=False)
    limit = checkpoint.get("args", {}).get("limit")
    test_x = common.inputs(images[:limit], checkpoint["mean"], checkpoint["std"], device)
    test_y = labels[:limit].to(device)

    logits = common.predict_logits(model, test_x)
    print(f"{args.checkpoint}: {checkpoint['model']} trained {checkpoint.get('epochs', '?')} epochs "
          f"on {checkpoint['dataset']}")
    print(report.report(logits, test_y, checkpoint["classes"], *common.loss_and_accuracy(logits, test_y)))
    if checkpoint.get("threshold") is not None:
        seed = checkpoint.get("args", {}).get("seed", 1)
        rejected = training.nondigit_rate(model, checkpoint["threshold"], seed, checkpoint["mean"], checkpoint["std"],
                                          args.data_dir)
        print(report.nondigit_line(checkpoint["threshold"], rejected))
    if not args.no_mistakes:
        print(report.save_mistakes(logits, test_x, test_y, checkpoint["classes"], checkpoint["mean"],
                                   checkpoint["std"], args.checkpoint))


if __name__ == "__main__":
    common.run(main)
