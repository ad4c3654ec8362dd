"""`keras-transformer info`: the versions and devices that decide how training will run."""


def run(args):
    import keras
    import tensorflow as tf
    import tensorflow_text

    import keras_transformer

    devices = tf.config.list_physical_devices()
    gpus = [d for d in devices if d.device_type == "GPU"]
    print(f"keras_transformer {keras_transformer.__version__}")
    print(f"keras {keras.__version__} (backend: {keras.backend.backend()})")
    print(f"tensorflow {tf.__version__}, tensorflow-text {tensorflow_text.__version__}")
    print(f"devices: {', '.join(d.name for d in devices)}")
    print(f"gpus: {len(gpus)}")
    return 0


def add_parser(commands):
    parser = commands.add_parser("info", help="versions of the stack and the devices found")
    parser.set_defaults(handler=run)
