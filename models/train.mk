# Plate OCR training (included from the top Makefile). TensorFlow lives only in .venv-train,
# never in .venv: the gate box runs the exported ONNX with onnxruntime.
#   make train-ocr    — 训练车牌识别模型 / generate data, train from scratch (~2.5 h on 2 cores), export ONNX
#   make export-ocr   — 导出 ONNX / re-export the best checkpoint of the latest run
#   make quantize-ocr — 量化 / the int8 copy the edge runs (models/ocr/dealergate_ocr_int8.onnx), ~1 min
#   make recover-ocr  — 恢复检查点 / rebuild the Keras checkpoint from the shipped ONNX (models/_work/recovered.keras),
#                       to train on from it in a fresh checkout: train_ocr.py train --weights models/_work/recovered.keras
#   make eval-ocr     — 评测 / score models/ocr/dealergate_ocr_int8.onnx (synthetic per type + real crops)
#   make eval-val     — 验证集 / the whole crop reader on the validation sets models are chosen on (~15 s)
#   make train-province — 省份分类器 / draw its data, train three rounds (~80 min on 2 cores), export models/ocr/province.onnx

TRAIN_VENV  := .venv-train
TRAIN_BIN   := $(TRAIN_VENV)/bin
TRAIN_STAMP := $(TRAIN_VENV)/.installed
PROVINCE_ARGS ?= --n-train 120000 --n-val 3000 --swaps 12 --real-oversample 3 --epochs 12 --lr 2e-3
PROVINCE_ROUND2_ARGS ?= --n-train 120000 --n-val 3000 --swaps 12 --real-oversample 3 --epochs 8 --lr 1e-3 --seed 33 --weights latest
# round 3 adds the windows the fusion gate asks about, mined with the shipped OCR (--hard-pool)
PROVINCE_ROUND3_ARGS ?= --n-train 60000 --n-val 3000 --swaps 12 --real-oversample 3 --hard-pool 120000 --hard-repeat 3 --epochs 5 --lr 5e-4 --seed 61 --weights latest
TRAIN_ARGS  ?= --n-train 30000 --n-val 1200 --real-oversample 6 --province-swaps 5 --glyph-swaps 8 --epochs 27 --batch-size 64 --lr 1.5e-3

.PHONY: train-env train-ocr export-ocr quantize-ocr recover-ocr eval-ocr eval-val train-province

train-env: $(TRAIN_STAMP)

$(TRAIN_STAMP): pyproject.toml
	@test -x $(TRAIN_BIN)/python || $(PYTHON) -m venv $(TRAIN_VENV)
	$(TRAIN_BIN)/python -m pip install --quiet --upgrade pip
	$(TRAIN_BIN)/python -m pip install --quiet -e ".[train]"
	@touch $(TRAIN_STAMP)

train-ocr: $(TRAIN_STAMP)
	KERAS_BACKEND=tensorflow $(TRAIN_BIN)/python models/train_ocr.py all $(TRAIN_ARGS)
	$(TRAIN_BIN)/python models/quantize_ocr.py

export-ocr: $(TRAIN_STAMP)
	KERAS_BACKEND=tensorflow $(TRAIN_BIN)/python models/train_ocr.py export
	$(TRAIN_BIN)/python models/quantize_ocr.py

quantize-ocr: $(TRAIN_STAMP)
	$(TRAIN_BIN)/python models/quantize_ocr.py

recover-ocr: $(TRAIN_STAMP)
	KERAS_BACKEND=tensorflow $(TRAIN_BIN)/python models/ocr_recover.py

eval-ocr: env
	$(BIN)/python models/eval_ocr.py

eval-val: env
	$(BIN)/python models/eval_val.py --clipped --blurred --grey $(VAL_ARGS)

train-province: $(TRAIN_STAMP)
	KERAS_BACKEND=tensorflow $(TRAIN_BIN)/python models/train_province.py all $(PROVINCE_ARGS)
	KERAS_BACKEND=tensorflow $(TRAIN_BIN)/python models/train_province.py all $(PROVINCE_ROUND2_ARGS)
	KERAS_BACKEND=tensorflow $(TRAIN_BIN)/python models/train_province.py all $(PROVINCE_ROUND3_ARGS)
