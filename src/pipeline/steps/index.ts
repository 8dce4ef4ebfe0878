/** The eight steps, in the order they run: the type says step N is the one STEP_NAMES names Nth. */
import type { STEP_NAMES, StepName } from '../../domain/build.js';
import type { Step } from '../types.js';
import { apprenticeBuildStep } from './apprentice-build.js';
import { completeStep } from './complete.js';
import { coordinatorPackageStep } from './coordinator-package.js';
import { deployerStep } from './deployer.js';
import { intentStep } from './intent.js';
import { registryUpdateStep } from './registry-update.js';
import { specGenerationStep } from './spec-generation.js';
import { verifierStep } from './verifier.js';

type StepsFor<Names extends readonly StepName[]> = { readonly [I in keyof Names]: Step<Names[I] & StepName> };
type InOrder = StepsFor<typeof STEP_NAMES>;

export const STEPS: InOrder = [
  intentStep,
  specGenerationStep,
  coordinatorPackageStep,
  apprenticeBuildStep,
  verifierStep,
  deployerStep,
  registryUpdateStep,
  completeStep,
];
